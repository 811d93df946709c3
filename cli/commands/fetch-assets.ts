/** `edgevision fetch-assets`: models, labels and the demo clip into <user dir>/edgevision/, sha256-checked. */
import { parseArgs, strArg, userDirArg } from '../args';
import { fetchCommand, userAssetsDir } from '../../nodes/lib/assets';
import { fetchAssets } from '../../nodes/lib/fetch-assets';

export const usage = [
  'usage: edgevision fetch-assets [--user-dir DIR] [--from DIR] [--force] [name ...]',
  '',
  '  Downloads the default assets of models/manifest.json (yolox_nano, its labels, the vtest demo clip)',
  '  into DIR/edgevision/, where the nodes look for them, and checks each sha256.',
  '  --user-dir DIR  the Node-RED user directory (default ~/.node-red)',
  '  --from DIR      copy from a local folder instead (air-gapped gateways); also EDGEVISION_ASSETS_FROM',
  '  --force         fetch again even when a verified copy is present',
  '  name ...        only these assets (e.g. osnet_x0_25_msmt17, which is never fetched by default)',
].join('\n');

export async function run(argv: string[]): Promise<number> {
  const args = parseArgs(argv, ['force']);
  const from = strArg(args, 'from') ?? process.env.EDGEVISION_ASSETS_FROM;
  const userDir = userDirArg(args);
  const dest = userAssetsDir(userDir);
  console.log(`into ${dest}`);
  const results = await fetchAssets({
    from,
    dest,
    force: args.force === true,
    names: args._,
    log: (l) => console.log(l),
    offlineHint: `Copy the files from a machine that has them and run "${fetchCommand(args._, userDir, '<folder>')}" (or set EDGEVISION_ASSETS_FROM).`,
  });
  const failed = results.filter((r) => r.outcome === 'failed');
  if (failed.length) {
    console.error(`${failed.length} asset(s) not installed.`);
    return 1;
  }
  return 0;
}
