import { createReadStream, createWriteStream, renameSync, rmSync, statSync } from 'node:fs';
import type { Command } from 'commander';
import { CliError, ExitCode } from '../exit-codes.js';
import { fileSize } from '../input.js';
import { action } from '../kit.js';

export function registerBackup(program: Command): void {
  program
    .command('backup')
    .description('download a full export of the server to a file')
    .requiredOption('--output <path>', 'where to write it')
    .option('--include-secrets', "include the instances' token hashes and the webhooks' secrets (admin only); without them, restored agents register again and restored signed webhooks are inactive")
    .action(action(async (cli, _args, o) => {
      const output: string = o.output;
      const response = await cli.client.stream('GET', '/api/export', o.includeSecrets ? { query: { include_secrets: '1' } } : undefined);
      // Written beside the target and renamed at the end, so a failed download never leaves a
      // truncated file where a good backup is expected.
      const partial = `${output}.partial`;
      const { pipeline } = await import('node:stream/promises');
      try {
        await pipeline(response, createWriteStream(partial));
        renameSync(partial, output);
      } catch (err) {
        rmSync(partial, { force: true });
        const code = (err as NodeJS.ErrnoException).code;
        if (code && /^E(ACCES|NOENT|ISDIR|ROFS|NOSPC|PERM)/.test(code)) {
          throw new CliError(`cannot write --output ${output}: ${code}`, ExitCode.badInput);
        }
        throw new CliError(`backup interrupted: ${(err as Error).message}`, ExitCode.unreachable);
      }
      cli.print({ output, bytes: statSync(output).size });
    }));

  program
    .command('restore')
    .description('load an export file into the server')
    .requiredOption('--file <path>', 'a file written by `koor-cli backup`')
    .option('--merge', 'keep existing data and add to it instead of replacing it')
    .action(action(async (cli, _args, o) => {
      const size = fileSize(o.file, '--file');
      const body = createReadStream(o.file);
      try {
        cli.print(await cli.client.json('POST', '/api/import', {
          body,
          query: { merge: o.merge ? 'true' : undefined },
          headers: { 'content-type': 'application/x-ndjson', 'content-length': String(size) },
        }));
      } catch (err) {
        // The server speaks to HTTP clients (?merge=1); this is the CLI's way to say it.
        if (err instanceof CliError && err.exitCode === ExitCode.conflict && !o.merge) {
          throw new CliError(`${err.message.replace(/,? or add \?merge=1 to skip rows that exist/, '')}; or run koor-cli restore --file ${o.file} --merge to skip rows that exist`, ExitCode.conflict);
        }
        throw err;
      }
    }));
}
