import type { Command } from 'commander';

/** One command of the tree: its words after `koor-cli`, and what may follow it. */
interface CompletionNode {
  path: string;
  entries: { word: string; description: string }[];
}

/** Walks the commander tree, so completion can never disagree with the real commands. */
function collect(command: Command, path: string, out: CompletionNode[], inherited: { word: string; description: string }[]): void {
  const own = command.options.filter((o) => !o.hidden && o.long).map((o) => ({ word: o.long!, description: o.description }));
  const options = path === '' ? own : [...own, ...inherited];
  const subcommands = command.commands.map((sub) => ({ word: sub.name(), description: sub.description() }));
  out.push({ path, entries: [...subcommands, ...options] });
  for (const sub of command.commands) collect(sub, path ? `${path} ${sub.name()}` : sub.name(), out, path === '' ? own : inherited);
}

const shellQuote = (text: string) => `'${text.replace(/'/g, `'\\''`)}'`;

export function bashCompletion(program: Command): string {
  const nodes: CompletionNode[] = [];
  collect(program, '', nodes, []);
  const cases = nodes.map((n) => `    ${shellQuote(n.path)}) echo ${shellQuote(n.entries.map((e) => e.word).join(' '))} ;;`).join('\n');
  return `# koor-cli completion for bash. Load it with:  source <(koor-cli completion bash)
_koor_cli_words() {
  case "$1" in
${cases}
  esac
}
_koor_cli() {
  local cur=\${COMP_WORDS[COMP_CWORD]} cmdpath="" word i
  for ((i = 1; i < COMP_CWORD; i++)); do
    word=\${COMP_WORDS[i]}
    [[ $word == -* ]] && continue
    [[ " $(_koor_cli_words "$cmdpath") " == *" $word "* ]] && cmdpath="\${cmdpath:+$cmdpath }$word"
  done
  COMPREPLY=($(compgen -W "$(_koor_cli_words "$cmdpath")" -- "$cur"))
}
complete -o default -F _koor_cli koor-cli
`;
}

export function zshCompletion(program: Command): string {
  const nodes: CompletionNode[] = [];
  collect(program, '', nodes, []);
  const describe = (e: { word: string; description: string }) => shellQuote(`${e.word.replace(/:/g, '\\:')}:${e.description.split('\n')[0]}`);
  const cases = nodes.map((n) => `    ${shellQuote(n.path)}) reply=(${n.entries.map(describe).join(' ')}) ;;`).join('\n');
  return `#compdef koor-cli
# koor-cli completion for zsh. Load it with:  source <(koor-cli completion zsh)
# (or save it as _koor-cli in a directory on $fpath).
_koor_cli_entries() {
  reply=()
  case "$1" in
${cases}
  esac
}
_koor_cli() {
  local cmdpath="" word i entry
  local -a reply entries
  for ((i = 2; i < CURRENT; i++)); do
    word=\${words[i]}
    [[ $word == -* ]] && continue
    _koor_cli_entries "$cmdpath"
    for entry in $reply; do
      if [[ \${entry%%:*} == $word ]]; then cmdpath="\${cmdpath:+$cmdpath }$word"; break; fi
    done
  done
  _koor_cli_entries "$cmdpath"
  entries=($reply)
  _describe -t commands 'koor-cli' entries || _files
}
if [[ $zsh_eval_context[-1] == loadautofunc ]]; then _koor_cli "$@"; else compdef _koor_cli koor-cli; fi
`;
}
