/** `edgevision fetch-assets`: models, labels and the demo clip into models/, sha256-checked. */
import { parseArgs, strArg } from '../args';
import { fetchAssets } from '../../nodes/lib/fetch-assets';

export const usage = [
  'usage: edgevision fetch-assets [--from DIR] [--force] [name ...]',
  '',
  '  Downloads the default assets of models/manifest.json into models/ and checks each sha256.',
  '  --from DIR  copy from a local folder instead (air-gapped gateways); also EDGEVISION_ASSETS_FROM',
  '  --force     fetch again even when a verified copy is present',
  '  name ...    only these assets (e.g. osnet_x0_25_msmt17, which is never fetched by default)',
].join('\n');

export async function run(argv: string[]): Promise<number> {
  const args = parseArgs(argv, ['force']);
  const from = strArg(args, 'from') ?? process.env.EDGEVISION_ASSETS_FROM;
  const results = await fetchAssets({ from, force: args.force === true, names: args._, log: (l) => console.log(l) });
  const failed = results.filter((r) => r.outcome === 'failed');
  if (failed.length) {
    console.error(`${failed.length} asset(s) not installed.`);
    return 1;
  }
  return 0;
}
