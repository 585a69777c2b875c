/**
 * Hints whose wording depends on the system: POSIX permissions have no chmod on Windows, and a port
 * refused there is usually one Windows reserved (Hyper-V, WSL), not a privileged one.
 */

/** What to do about a model file (or a folder on its path) this user may not read. */
export function fileAccessHint(file: string, what: "file" | "folders", platform: NodeJS.Platform = process.platform): string {
    if (platform === "win32")
        return `Give your user Read access in the ${what === "file" ? "file's" : "folders'"} Properties → Security, or copy the file somewhere you can read.`;
    return what === "file"
        ? `Make it readable for your user (chmod u+r "${file}"), or run as its owner.`
        : "Give yourself access to the folders on its path (chmod u+x), or copy the file somewhere you can read.";
}

/** Why listening on a port was refused (EACCES), and what to do. */
export function portRefusedHint(platform: NodeJS.Platform = process.platform): {reason: string, hint: string} {
    if (platform === "win32")
        return {reason: "is reserved by Windows (Hyper-V, WSL or Docker keep ranges of ports)", hint: "Pick another with --port; `netsh interface ipv4 show excludedportrange protocol=tcp` lists the reserved ones."};
    return {reason: "needs privileges to listen on", hint: "Pick a port above 1023 with --port."};
}
