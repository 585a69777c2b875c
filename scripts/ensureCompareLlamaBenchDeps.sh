#!/usr/bin/env sh
# llama.cpp's scripts/compare-llama-bench.py (run by test/e2e/benchCompareLlamaBench.test.ts to prove
# our JSON is llama-bench's) needs GitPython and tabulate: Debian ships them as python3-git and
# python3-tabulate for the system python. Quick when they are already there; installs them with
# apt-get when it can (root, or passwordless sudo), saying so; otherwise says what to run and leaves it
# at that. Run by .ci/run, never by npm test (the test skips, saying why, without them).
set -eu
check='import git, tabulate'
if /usr/bin/python3 -c "$check" 2>/dev/null; then exit 0; fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "compare-llama-bench.py needs GitPython and tabulate for /usr/bin/python3 (pip install GitPython tabulate)." >&2
    exit 0
fi
if [ "$(id -u)" = "0" ]; then sudo=""; elif sudo -n true 2>/dev/null; then sudo="sudo -n"; else
    echo "compare-llama-bench.py needs: sudo apt-get install -y python3-git python3-tabulate" >&2
    exit 0
fi
echo "installing python3-git and python3-tabulate with apt-get (for llama.cpp's compare-llama-bench.py)" >&2
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get install -y -q --no-install-recommends python3 python3-git python3-tabulate >/dev/null 2>&1 ||
    { $sudo apt-get update -q >/dev/null 2>&1 && $sudo apt-get install -y -q --no-install-recommends python3 python3-git python3-tabulate >/dev/null; }
