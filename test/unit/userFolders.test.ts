import {describe, expect, test} from "vitest";
import {ollamaModelFolders} from "../../src/models/findExisting.js";
import {storeDir} from "../../src/models/store.js";
import {homeFolder, mixtralFolder, type UserSystem} from "../../src/userFolders.js";

// Each system's convention for the model store and the config folder, asked as each system would.

function system(platform: NodeJS.Platform, env: NodeJS.ProcessEnv, existing: string[] = []): UserSystem {
    return {platform, env, exists: (folder) => existing.includes(folder)};
}

const mac = {HOME: "/Users/ada"};
const windows = {USERPROFILE: "C:\\Users\\ada", LOCALAPPDATA: "C:\\Users\\ada\\AppData\\Local", APPDATA: "C:\\Users\\ada\\AppData\\Roaming"};

describe("the model store", () => {
    test("macOS: ~/Library/Caches, which Time Machine does not back up", () => {
        expect(storeDir(mac, system("darwin", mac))).toBe("/Users/ada/Library/Caches/mixtral/models");
    });

    test("macOS: a store an earlier version filled under ~/.cache keeps being used", () => {
        expect(storeDir(mac, system("darwin", mac, ["/Users/ada/.cache/mixtral/models"]))).toBe("/Users/ada/.cache/mixtral/models");
    });

    test("Windows: %LOCALAPPDATA% (not roamed to other PCs)", () => {
        expect(storeDir(windows, system("win32", windows))).toBe("C:\\Users\\ada\\AppData\\Local\\mixtral\\models");
    });

    test("Windows: without LOCALAPPDATA, its usual place under the profile", () => {
        const env = {USERPROFILE: "C:\\Users\\ada"};
        expect(storeDir(env, system("win32", env))).toBe("C:\\Users\\ada\\AppData\\Local\\mixtral\\models");
    });

    test("Linux: ~/.cache as before, and $XDG_CACHE_HOME when set", () => {
        expect(storeDir({HOME: "/home/ada"}, system("linux", {HOME: "/home/ada"}))).toBe("/home/ada/.cache/mixtral/models");
        const env = {HOME: "/home/ada", XDG_CACHE_HOME: "/data/cache"};
        expect(storeDir(env, system("linux", env))).toBe("/data/cache/mixtral/models");
    });

    test.each(["linux", "darwin", "win32"] as const)("%s: MIXTRAL_MODELS still wins", (platform) => {
        const env = {...mac, ...windows, MIXTRAL_MODELS: "/big/disk/models"};
        expect(storeDir(env, system(platform, env, ["/Users/ada/.cache/mixtral/models"]))).toBe("/big/disk/models");
    });
});

describe("the config folder (chat history)", () => {
    test("macOS: ~/Library/Application Support", () => {
        expect(mixtralFolder("config", system("darwin", mac))).toBe("/Users/ada/Library/Application Support/mixtral");
    });

    test("Windows: %APPDATA%", () => {
        expect(mixtralFolder("config", system("win32", windows))).toBe("C:\\Users\\ada\\AppData\\Roaming\\mixtral");
    });

    test("an old ~/.config/mixtral keeps being used", () => {
        expect(mixtralFolder("config", system("darwin", mac, ["/Users/ada/.config/mixtral"]))).toBe("/Users/ada/.config/mixtral");
    });
});

test("Windows: the profile folder, not the HOME that Git Bash or Cygwin set", () => {
    expect(homeFolder({platform: "win32", env: {...windows, HOME: "/home/ada"}})).toBe("C:\\Users\\ada");
    expect(homeFolder({platform: "linux", env: {HOME: "/home/ada"}})).toBe("/home/ada");
});

describe("Ollama's folders", () => {
    test("Linux: the system service's folders are searched besides the user's", () => {
        expect(ollamaModelFolders({HOME: "/home/ada"}, "linux")).toEqual(expect.arrayContaining([
            "/home/ada/.ollama/models", "/usr/share/ollama/.ollama/models", "/var/lib/ollama/.ollama/models"
        ]));
    });

    test("OLLAMA_MODELS, when set, is the one place", () => {
        expect(ollamaModelFolders({HOME: "/home/ada", OLLAMA_MODELS: "/srv/ollama"}, "linux")).toEqual(["/srv/ollama"]);
    });
});

test("Windows: `-m ~\\models\\x.gguf` typed in cmd or PowerShell (which do not expand ~) is the profile's folder", async () => {
    const {parseModelSpec} = await import("../../src/models/resolveName.js");
    const {loadCatalog} = await import("../../src/models/catalog.js");
    expect(parseModelSpec("~\\models\\x.gguf", loadCatalog(), windows, "win32")).toEqual({kind: "path", path: "C:\\Users\\ada\\models\\x.gguf"});
    // A POSIX shell leaves a quoted "~/x.gguf" as typed: expanded too (test/unit/homeInPaths.test.ts).
    expect(parseModelSpec("~/x.gguf", loadCatalog(), mac, "darwin")).toEqual({kind: "path", path: "/Users/ada/x.gguf"});
});
