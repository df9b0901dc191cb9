import { Option, type Command } from 'commander';
import { apiPath } from '../client.js';
import { badInput } from '../exit-codes.js';
import { parseJson, parseWhole, readFileArgument, readValue, splitList, writeFileArgument } from '../input.js';
import { action, failUnless } from '../kit.js';

interface Violation {
  severity?: string;
}

export function registerRules(program: Command): void {
  const rules = program.command('rules').description('validation rules and their lifecycle');

  rules
    .command('list <project>')
    .description("a project's rules")
    .option('--stack <stack>', 'only universal rules and rules of this stack')
    .action(action(async (cli, [project], o) => {
      cli.print(await cli.client.json('GET', apiPath('/api/validate', project!, 'rules'), { query: { stack: o.stack } }));
    }));

  rules
    .command('import')
    .description('upsert an array of rules as accepted (from --file or stdin); source defaults to external')
    .option('--file <path>', 'JSON array of rules (as `rules export` prints)')
    .option('--project <project>', 'project for rules that name none')
    .action(action(async (cli, _args, o) => {
      const rulesJson = parseJson(await readValue({ file: o.file }), o.file !== undefined ? '--file' : 'stdin');
      if (!Array.isArray(rulesJson)) throw badInput('rules to import must be a JSON array');
      cli.print(await cli.client.json('POST', '/api/rules/import', { json: rulesJson, query: { project: o.project } }));
    }));

  rules
    .command('export')
    .description('accepted rules as a JSON array')
    .option('--source <list>', 'comma-separated sources (default local,learned)')
    // Go Koor's form: write the array (indented) to a file instead of printing it.
    .addOption(new Option('--output <path>').hideHelp())
    .action(action(async (cli, _args, o) => {
      const exported = await cli.client.json<unknown[]>('GET', '/api/rules/export', { query: { source: o.source } });
      if (o.output === undefined) return cli.print(exported);
      writeFileArgument(o.output, '--output', `${JSON.stringify(exported, null, 2)}\n`);
      cli.print({ output: o.output, rules: Array.isArray(exported) ? exported.length : 0 });
    }));

  rules
    .command('propose <project> <rule_id>')
    .description('propose a learned rule for review')
    .requiredOption('--pattern <pattern>', 'RE2 pattern')
    .requiredOption('--message <message>', 'what a violation means')
    .option('--severity <severity>', 'error or warning')
    .option('--match-type <type>', 'regex, missing or custom')
    .option('--stack <stack>', 'only for this stack')
    .option('--applies-to <globs>', 'comma-separated file globs')
    .option('--proposed-by <who>', 'who proposes it (default: this instance)')
    .option('--context <text>', 'why it is needed')
    .action(action(async (cli, [project, ruleId], o) => {
      const body = {
        project,
        rule_id: ruleId,
        pattern: o.pattern,
        message: o.message,
        severity: o.severity,
        match_type: o.matchType,
        stack: o.stack,
        applies_to: splitList(o.appliesTo),
        proposed_by: o.proposedBy ?? cli.connection.instanceId,
        context: o.context,
      };
      cli.print(await cli.client.json('POST', '/api/rules/propose', { json: body }));
    }));

  for (const verdict of ['accept', 'reject'] as const) {
    rules
      .command(`${verdict} <project> <rule_id>`)
      .description(`${verdict} a proposed rule`)
      .action(action(async (cli, [project, ruleId]) => cli.print(await cli.client.json('POST', apiPath('/api/rules', project!, ruleId!, verdict)))));
  }

  program
    .command('validate <project>')
    .description("check a file against the project's rules (exit 7 on error-level violations)")
    .option('--file <path>', 'the file to check (its path is sent as the filename)')
    .option('--filename <name>', 'filename to match rules against when the content comes from stdin')
    .option('--stack <stack>', 'only universal rules and rules of this stack')
    .action(action(async (cli, [project], o) => {
      const content = o.file !== undefined ? readFileArgument(o.file) : await readValue({});
      const filename = o.filename ?? o.file;
      const result = await cli.client.json<{ violations?: Violation[] }>('POST', apiPath('/api/validate', project!), {
        json: { filename, content: content.toString('utf8'), stack: o.stack },
      });
      cli.print(result);
      const errors = (result.violations ?? []).filter((v) => v.severity !== 'warning').length;
      failUnless(errors === 0, `${errors} error-level violation${errors === 1 ? '' : 's'}`);
    }));

  const compliance = program.command('compliance').description('contract compliance checks');

  compliance
    .command('history')
    .description('stored compliance checks, newest first')
    .option('--instance <id>', 'only this instance')
    .option('--limit <n>', 'at most this many')
    .action(action(async (cli, _args, o) => {
      const query = { instance_id: o.instance, limit: parseWhole(o.limit, '--limit', 1) };
      cli.print(await cli.client.json('GET', '/api/compliance/history', { query }));
    }));

  compliance
    .command('run')
    .description('check every active instance now')
    .action(action(async (cli) => cli.print(await cli.client.json('POST', '/api/compliance/run'))));

  const templates = program.command('templates').description('reusable rule and contract packages');

  templates
    .command('list')
    .description('list templates (without data)')
    .option('--kind <kind>', 'rules, contracts or bundle')
    .option('--tag <tag>', 'only with this tag')
    .action(action(async (cli, _args, o) => cli.print(await cli.client.json('GET', '/api/templates', { query: { kind: o.kind, tag: o.tag } }))));

  templates
    .command('get <id>')
    .description('one template with its data')
    .action(action(async (cli, [id]) => cli.print(await cli.client.json('GET', apiPath('/api/templates', id!)))));

  templates
    .command('create')
    .description('create a template from JSON {id, name, description?, kind?, data, tags?} (--file, --data or stdin)')
    .option('--file <path>', 'the template JSON file')
    .option('--data <json>', 'the template JSON')
    // Go Koor's form: the fields as flags, and --file holding only the data.
    .addOption(new Option('--id <id>').hideHelp())
    .addOption(new Option('--name <name>').hideHelp())
    .addOption(new Option('--kind <kind>').hideHelp())
    .addOption(new Option('--description <text>').hideHelp())
    .addOption(new Option('--tags <list>').hideHelp())
    .action(action(async (cli, _args, o) => {
      const source = o.file !== undefined ? '--file' : o.data !== undefined ? '--data' : 'stdin';
      const given = parseJson(await readValue(o), source);
      const goForm = o.id !== undefined || o.name !== undefined;
      const template = goForm
        ? { id: o.id, name: o.name, kind: o.kind, description: o.description, data: given, tags: splitList(o.tags) ?? [] }
        : given;
      cli.print(await cli.client.json('POST', '/api/templates', { json: template }));
    }));

  templates
    .command('delete <id>')
    .description('delete a template')
    .action(action(async (cli, [id]) => cli.print(await cli.client.json('DELETE', apiPath('/api/templates', id!)))));

  templates
    .command('apply <id>')
    .description('apply a template to a project')
    .requiredOption('--project <project>', 'the project')
    .action(action(async (cli, [id], o) => cli.print(await cli.client.json('POST', apiPath('/api/templates', id!, 'apply'), { json: { project: o.project } }))));
}
