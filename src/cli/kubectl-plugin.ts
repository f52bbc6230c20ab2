// The CLI run as `kubectl nodeqos` (bin/kubectl-nodeqos sets the variable below): `kubectl nodeqos <node>` is
// short for `kubectl nodeqos explain <node>`, the form the chart's NOTES and docs/install.md print.
export const pluginEnv = 'NODEQOS_KUBECTL_PLUGIN';

/** The arguments with `explain` put in front when the first one is neither a command nor an option. */
export function pluginArguments(args: readonly string[], commands: readonly string[]): string[] {
  const first = args[0];
  if (first === undefined || first.startsWith('-') || first === 'help' || commands.includes(first))
    return [...args];
  return ['explain', ...args];
}

export const pluginHelp = [
  'As a kubectl plugin (bin/kubectl-nodeqos on PATH):',
  '  kubectl nodeqos <node>                 short for: kubectl nodeqos explain <node>',
  '  kubectl nodeqos <node> --context C -n NS --kubeconfig F',
  '                                         flags go after the node: kubectl refuses its own in front',
  'The cluster is found as kubectl finds it: --kubeconfig, else $KUBECONFIG, else ~/.kube/config; the',
  "kubeconfig's current-context unless --context.",
].join('\n');
