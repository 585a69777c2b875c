import {spawnSync} from "node:child_process";

/**
 * llama.cpp's scripts/compare-llama-bench.py (run by test/e2e/benchCompareLlamaBench.test.ts to prove
 * our JSON is llama-bench's) needs GitPython and tabulate. Quick when they are already there; on
 * Debian and Ubuntu it installs python3-git and python3-tabulate with apt-get when it can (root, or
 * passwordless sudo); elsewhere (macOS, Windows, other Linux) it says what to run and leaves it at
 * that — the test then skips with the same reason. Never fails. Run by .ci/run, never by `npm test`.
 */
const check = "import git, tabulate";

function succeeds(command: string, args: string[]): boolean {
    const result = spawnSync(command, args, {stdio: "ignore", shell: false});
    return result.error == null && result.status === 0;
}

function pythonReady(): boolean {
    return ["/usr/bin/python3", "python3", "python"].some((python) => succeeds(python, ["-c", check]));
}

function say(text: string) {
    process.stderr.write(`${text}\n`);
}

function main() {
    if (pythonReady()) return;
    if (process.platform !== "linux" || !succeeds("sh", ["-c", "command -v apt-get"])) {
        say("compare-llama-bench.py needs Python 3 with GitPython and tabulate (pip install GitPython tabulate); its test is skipped until then.");
        return;
    }
    const root = process.getuid?.() === 0;
    if (!root && !succeeds("sudo", ["-n", "true"])) {
        say("compare-llama-bench.py needs: sudo apt-get install -y python3-git python3-tabulate (its test is skipped until then).");
        return;
    }
    const sudo = root ? [] : ["sudo", "-n"];
    const aptGet = (...args: string[]) => {
        const [command, ...rest] = [...sudo, "apt-get", ...args];
        return spawnSync(command!, rest, {stdio: "ignore", env: {...process.env, DEBIAN_FRONTEND: "noninteractive"}}).status === 0;
    };
    const packages = ["install", "-y", "-q", "--no-install-recommends", "python3", "python3-git", "python3-tabulate"];
    if (!aptGet(...packages) && !(aptGet("update", "-q") && aptGet(...packages)))
        say("compare-llama-bench.py's Python packages could not be installed with apt-get; its test is skipped until then.");
}

main();
