/**
 * Go Koor's command forms, accepted beside Koor's own so that the scripts and the CLAUDE.md
 * files its wizard wrote keep working. Each is rewritten into today's form before the command
 * line is parsed, so help and completion show only today's forms; docs/cli.md lists them all
 * in one table. Every form here is one that today's parser would refuse, so no command line
 * that works today changes meaning. (Two Go forms need more than a rewrite and are hidden
 * options of their commands instead: `templates create --id … --file DATA` and
 * `rules export --output PATH`.)
 */

type Rewrite = (rest: string[]) => string[];

/** `--flag VALUE` taken out of `rest`: the value (undefined when absent) and what is left. */
function takeFlag(rest: string[], flag: string): [string | undefined, string[]] {
  const at = rest.indexOf(flag);
  if (at < 0 || at + 1 >= rest.length) return [undefined, rest];
  return [rest[at + 1], [...rest.slice(0, at), ...rest.slice(at + 2)]];
}

const renameFlag = (from: string, to: string): Rewrite => (rest) => rest.map((arg) => (arg === from ? to : arg));

/** `PROJECT/NAME` as Go writes it → `PROJECT NAME` (split at the first slash, as Go does). */
const splitSpecPath: Rewrite = (rest) => {
  const [path, next] = rest;
  const slash = path?.indexOf('/') ?? -1;
  if (!path || path.startsWith('-') || slash <= 0 || (next !== undefined && !next.startsWith('-'))) return rest;
  return [path.slice(0, slash), path.slice(slash + 1), ...rest.slice(1)];
};

const chain = (...rewrites: Rewrite[]): Rewrite => (rest) => rewrites.reduce((args, rewrite) => rewrite(args), rest);

/** `KEY --version N` → `KEY N`. */
const rollbackVersion: Rewrite = (rest) => {
  const [version, others] = takeFlag(rest, '--version');
  if (version === undefined || !others[0] || others[0].startsWith('-')) return rest;
  return [others[0], version, ...others.slice(1)];
};

/** `--id ID --url URL` → `ID URL`. */
const webhookFlags: Rewrite = (rest) => {
  const [id, withoutId] = takeFlag(rest, '--id');
  const [url, others] = takeFlag(withoutId, '--url');
  if (id === undefined && url === undefined) return rest;
  return [...(id !== undefined ? [id] : []), ...(url !== undefined ? [url] : []), ...others];
};

/** `metrics agents ID` → `metrics agents --instance ID`. */
const agentPositional: Rewrite = (rest) => (rest[0] && !rest[0].startsWith('-') ? ['--instance', rest[0], ...rest.slice(1)] : rest);

/** By command (its first two words): how Go's form of it becomes today's. */
const GO_FORMS: Record<string, Rewrite> = {
  'state rollback': rollbackVersion,
  'specs get': splitSpecPath,
  'specs set': splitSpecPath,
  'specs delete': splitSpecPath,
  'contract set': splitSpecPath,
  'contract get': splitSpecPath,
  'contract validate': chain(splitSpecPath, renameFlag('--payload', '--data')),
  'contract test': chain(splitSpecPath, renameFlag('--target', '--base-url')),
  'webhooks add': webhookFlags,
  'compliance history': renameFlag('--instance_id', '--instance'),
  'metrics agents': chain(renameFlag('--instance_id', '--instance'), agentPositional),
  'llm usage': renameFlag('--session', '--session-tag'),
  'llm summary': renameFlag('--by', '--group-by'),
};

/** The command line (after `koor-cli`) with any Go Koor form rewritten into today's. */
export function fromGoForm(args: string[]): string[] {
  // `--pretty` may stand anywhere (in Go's CLI too); it is set aside and put back at the end.
  const words = args.filter((arg) => arg !== '--pretty');
  const rewrite = GO_FORMS[`${words[0]} ${words[1]}`];
  if (!rewrite) return args;
  const rewritten = [words[0]!, words[1]!, ...rewrite(words.slice(2))];
  return words.length === args.length ? rewritten : [...rewritten, '--pretty'];
}
