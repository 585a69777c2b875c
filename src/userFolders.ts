import fs from "node:fs";
import os from "node:os";
import path from "node:path";

/**
 * Where mixtral keeps things, by each system's convention, in one place:
 *
 * | what    | Linux (XDG)                    | macOS                               | Windows                  |
 * |---------|--------------------------------|-------------------------------------|--------------------------|
 * | cache   | $XDG_CACHE_HOME or ~/.cache    | ~/Library/Caches (no Time Machine)  | %LOCALAPPDATA% (no roaming) |
 * | config  | $XDG_CONFIG_HOME or ~/.config  | ~/Library/Application Support       | %APPDATA%                |
 *
 * An XDG variable the user set wins on every system. A folder an earlier version made under
 * ~/.cache or ~/.config (it used XDG everywhere) keeps being used, so nobody loses 26–50 GB of
 * models or their history by upgrading.
 */
export type UserSystem = {
    env: NodeJS.ProcessEnv,
    platform: NodeJS.Platform,
    /** Whether a folder exists (the old location); replaceable for tests. */
    exists: (folder: string) => boolean
};

export function thisSystem(env: NodeJS.ProcessEnv = process.env): UserSystem {
    return {env, platform: process.platform, exists: (folder) => fs.existsSync(folder)};
}

function set(value: string | undefined): value is string {
    return value != null && value !== "";
}

function pathsOf(platform: NodeJS.Platform): path.PlatformPath {
    return platform === "win32" ? path.win32 : path.posix;
}

/**
 * The home folder. POSIX: $HOME first (what shells and sudo -H set), then the password database.
 * Windows: %USERPROFILE% — Git Bash and Cygwin set HOME to their own idea of it, which native
 * programs do not use.
 */
export function homeFolder({env, platform}: Pick<UserSystem, "env" | "platform">): string {
    const fromEnv = platform === "win32" ? env.USERPROFILE : env.HOME;
    return set(fromEnv) ? fromEnv : os.homedir();
}

/** `<app folder>/<...parts>` for `kind`, by the platform's convention, or the old XDG-style folder when only that exists. */
export function mixtralFolder(kind: "cache" | "config", system: UserSystem, ...parts: string[]): string {
    const {env, platform, exists} = system;
    const paths = pathsOf(platform);
    const xdg = kind === "cache" ? env.XDG_CACHE_HOME : env.XDG_CONFIG_HOME;
    if (set(xdg)) return paths.resolve(xdg, "mixtral", ...parts);
    const home = homeFolder(system);
    const old = paths.join(home, kind === "cache" ? ".cache" : ".config", "mixtral", ...parts);
    if (platform !== "darwin" && platform !== "win32") return old;
    const conventional = paths.join(conventionalRoot(kind, system, home), "mixtral", ...parts);
    return !exists(conventional) && exists(old) ? old : conventional;
}

function conventionalRoot(kind: "cache" | "config", {env, platform}: UserSystem, home: string): string {
    if (platform === "darwin") return path.posix.join(home, "Library", kind === "cache" ? "Caches" : "Application Support");
    const fromEnv = kind === "cache" ? env.LOCALAPPDATA : env.APPDATA;
    return set(fromEnv) ? fromEnv : path.win32.join(home, "AppData", kind === "cache" ? "Local" : "Roaming");
}

/**
 * A path typed with a leading `~` (`~`, `~/x`, and on Windows `~\x`) is under the home folder, on
 * every system: cmd.exe and PowerShell pass `~` to a program unexpanded, and so does a POSIX shell
 * when it is quoted ("~/models/x.gguf"), after `=` in `--flag=~/x`, or in an environment variable
 * set from a file. `~user` is left as typed. The home folder is homeFolder's ($HOME before the
 * password database, %USERPROFILE% on Windows).
 */
export function expandHome(value: string, system: Pick<UserSystem, "env" | "platform">): string {
    const separator = system.platform === "win32" ? /^~(?:[\\/]|$)/ : /^~(?:\/|$)/;
    if (!separator.test(value)) return value;
    return pathsOf(system.platform).join(homeFolder(system), value.slice(1));
}
