/**
 * `edgevision` — the engine without Node-RED: replay video and MOTChallenge files, tune lines on a
 * recording, run benchmarks. Each subcommand is a module in cli/commands/<name>.ts exporting
 * `run(argv): Promise<number>` and `usage`; `bench <what>` lives in cli/bench/<what>.ts.
 */
import * as fs from 'fs';
import * as path from 'path';

export interface Command {
  usage: string;
  run(argv: string[]): Promise<number>;
}

function listModules(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.js'))
    .map((f) => f.slice(0, -3))
    .sort();
}

function load(dir: string, name: string): Command | undefined {
  if (!/^[a-z0-9-]+$/.test(name)) return undefined;
  const file = path.join(dir, name + '.js');
  if (!fs.existsSync(file)) return undefined;
  return require(file) as Command;
}

function help(): string {
  const cmds = listModules(path.join(__dirname, 'commands'));
  const benches = listModules(path.join(__dirname, 'bench'));
  return [
    'usage: edgevision <command> [options]',
    '',
    'commands: ' + cmds.join(', '),
    benches.length ? 'benchmarks: edgevision bench <' + benches.join('|') + '>' : 'benchmarks: in a git checkout of the project',
    '',
    "edgevision <command> --help shows a command's options.",
  ].join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    console.log(help());
    return name ? 0 : 2;
  }
  const isBench = name === 'bench';
  const dir = path.join(__dirname, isBench ? 'bench' : 'commands');
  const sub = isBench ? rest[0] : name;
  const args = isBench ? rest.slice(1) : rest;
  const cmd = sub ? load(dir, sub) : undefined;
  if (!cmd && isBench && !fs.existsSync(dir)) {
    // The npm package leaves the benchmarks out (they need the test assets anyway).
    console.error('edgevision: the benchmarks come with a git checkout of the project, not with the npm package');
    return 2;
  }
  if (!cmd) {
    console.error(`edgevision: unknown ${isBench ? 'benchmark' : 'command'} "${sub ?? ''}"\n\n${help()}`);
    return 2;
  }
  if (args.includes('--help') || args.includes('-h')) {
    console.log(cmd.usage);
    return 0;
  }
  return cmd.run(args);
}
