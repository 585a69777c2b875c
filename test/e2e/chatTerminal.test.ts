import {mkdtemp, readFile, rm} from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import {afterAll, beforeAll, describe, expect, test} from "vitest";
import {runInPty, stopEachAnswer, type PtyRun} from "./helpers/pty.js";
import {tinyModel} from "./helpers/runCli.js";

// `mixtral chat` in a real pseudo-terminal: keystrokes in, the screen out.
let configHome: string;
beforeAll(async () => {
    configHome = await mkdtemp(path.join(os.tmpdir(), "mixtral-chat-pty-"));
});
afterAll(async () => {
    await rm(configHome, {recursive: true, force: true});
});

const prompt = "\n> ";
const up = "\u001b[A";

function startChat(extra: string[] = [], {history = false} = {}): PtyRun {
    const args = ["chat", "-m", tinyModel(), "--temperature", "0", "--max-tokens", "8", ...extra];
    if (!history) args.push("--no-history");
    return runInPty(args, {env: {XDG_CONFIG_HOME: configHome}});
}

/** Types a message and returns the answer shown before the next prompt. */
async function turn(chat: PtyRun, message: string): Promise<string> {
    chat.write(message + "\r");
    await chat.expect(message + "\n");
    const shown = await chat.expect(prompt);
    return shown.slice(0, -prompt.length).trim();
}

/** A slash command and what it printed. */
const command = turn;

describe("mixtral chat in a terminal", () => {
    test("streams an answer after the prompt, and /exit leaves with exit code 0", async () => {
        const chat = startChat();
        await chat.expect(/\/help lists the commands.*\n> /);
        const answer = await turn(chat, "hello world");
        expect(answer.length).toBeGreaterThan(0);
        // Ctrl+L clears the screen (cursor home, erase below) and draws the prompt again.
        const before = chat.raw().length;
        chat.write("\u000c");
        await chat.expect("> ");
        expect(chat.raw().slice(before)).toContain("\u001b[1;1H\u001b[0J");
        expect(await command(chat, "/stats")).toMatch(/messages +2\ncontext +\d+ \/ \d+ tokens[\s\S]*last answer +8 tokens at [\d.]+ tok\/s, first token after \d+ ms/);
        chat.write("/exit\r");
        expect(await chat.exit()).toBe(0);
    });

    test("Ctrl+D on an empty prompt leaves with exit code 0; Ctrl+C on one asks first, and a second leaves with 130", async () => {
        const first = startChat();
        await first.expect(prompt.trimStart());
        first.write("\u0004");
        expect(await first.exit()).toBe(0);
        const second = startChat();
        await second.expect(prompt.trimStart());
        second.write("half a thought");
        await second.expect("half a thought");
        // The first Ctrl+C only drops the line being typed.
        second.write("\u0003");
        await second.expect("^C");
        // On the empty prompt, one Ctrl+C asks; a key in between disarms it; two in a row leave.
        second.write("\u0003");
        await second.expect("(press Ctrl+C again or Ctrl+D to leave)");
        second.write("x\u007f");
        second.write("\u0003");
        await second.expect("(press Ctrl+C again or Ctrl+D to leave)");
        second.write("\u0003");
        expect(await second.exit()).toBe(130);
    });

    test("/set takes --repeat-penalty as chat does, and /stats counts one answer in the singular", async () => {
        const chat = startChat();
        await chat.expect(/\/help lists the commands.*\n> /);
        expect(await command(chat, "/set repeat-penalty 1.1")).toContain("(repeat-penalty set to 1.1)");
        await turn(chat, "hello");
        expect(await command(chat, "/stats")).toMatch(/session +1 answer, 8 tokens generated \([\d.]+ tok\/s\), \d+ prompt tokens? evaluated/);
        chat.write("/exit\r");
        expect(await chat.exit()).toBe(0);
    });

    test("Ctrl+C stops a long answer and keeps the conversation for the next turn", async () => {
        const chat = runInPty(["chat", "-m", tinyModel(), "--temperature", "0", "--max-tokens", "1000000", "--context-size", "32768", "--no-history"],
            {env: {XDG_CONFIG_HOME: configHome}});
        await chat.expect(prompt.trimStart());
        await stopEachAnswer(chat, ["tell me a long story", "and another one"], prompt.trimStart());
        // No ^C from the terminal's echo in the answers: Ctrl+C is read as a key, not echoed.
        const answers = [...chat.screen().matchAll(/(?:long story|another one)\n([\s\S]*?)\(stopped\)/g)].map((match) => match[1]);
        expect(answers).toHaveLength(2);
        expect(answers.filter((answer) => answer?.includes("^C"))).toEqual([]);
        // Keys typed while an answer streams are not drawn into it: they wait for the prompt.
        chat.write("a third one\r");
        await chat.expect("a third one\n");
        await chat.expect(/\S/);
        chat.write("typed ahead");
        chat.write("\u0003");
        const third = await chat.expect("(stopped)");
        expect(third).not.toContain("typed ahead");
        await chat.expect(/> typed ahead/);
        chat.write("\u0003");
        await chat.expect("^C");
        // All three exchanges are kept, each with the part of the answer given before Ctrl+C.
        expect(await command(chat, "/stats")).toMatch(/messages +6\n/);
        chat.write("/exit\r");
        expect(await chat.exit()).toBe(0);
    });

    test("/retry regenerates the last answer and /undo drops the last exchange", async () => {
        const chat = startChat();
        await chat.expect(prompt.trimStart());
        await turn(chat, "hello world");
        const answer = await turn(chat, "why is the sky blue");
        // Greedy sampling: the same context gives the same answer again.
        expect(await command(chat, "/retry")).toBe(answer);
        expect(await command(chat, "/stats")).toMatch(/messages +4\n/);
        expect(await command(chat, "/undo")).toBe("(dropped the last exchange)");
        expect(await command(chat, "/stats")).toMatch(/messages +2\n/);
        // Asked again in the same place, the question gets the same answer.
        expect(await turn(chat, "why is the sky blue")).toBe(answer);
        chat.write("\u0004");
        expect(await chat.exit()).toBe(0);
    });

    test("/save writes the conversation as JSON and /load brings it back", async () => {
        const file = path.join(configHome, "conversation.json");
        const chat = startChat(["--system", "Be brief."]);
        await chat.expect(prompt.trimStart());
        // A trailing backslash continues the message on the next line.
        chat.write("first line \\\r");
        await chat.expect("... ");
        const answer = await turn(chat, "second line");
        // A folder that is not there is named, not the KV state file written beside the JSON.
        const missing = path.join(configHome, "no-such-folder", "talk.json");
        const refused = await command(chat, `/save ${missing}`);
        expect(refused).toContain(`Cannot save to ${missing}: the folder ${path.dirname(missing)} does not exist.`);
        expect(refused).not.toContain(".kvstate");
        expect(await command(chat, `/save ${file}`)).toMatch(/saved 2 messages to .*conversation\.json and their KV state \(\d+ tokens, [\d.]+ (kB|MB)\)/);
        const saved = JSON.parse(await readFile(file, "utf8")) as {system: string, messages: {role: string, content: string}[]};
        expect(saved.system).toBe("Be brief.");
        expect(saved.messages).toEqual([{role: "user", content: "first line \nsecond line"}, {role: "assistant", content: answer}]);

        await command(chat, "/reset");
        expect(await command(chat, "/stats")).toMatch(/messages +0\n/);
        expect(await command(chat, `/load ${file}`)).toContain("loaded 2 messages");
        expect(await command(chat, "/stats")).toMatch(/messages +2\n/);
        expect(await command(chat, "/retry")).toBe(answer);
        expect(await command(chat, "/load /no/such/file.json")).toMatch(/^error: Could not read \/no\/such\/file\.json\.\nhint: /);
        chat.write("/exit\r");
        expect(await chat.exit()).toBe(0);
    });

    test("remembers typed lines across sessions in the config dir, reachable with the up arrow; a \"\"\" block comes back whole", async () => {
        const first = startChat([], {history: true});
        await first.expect(prompt.trimStart());
        await turn(first, "remember this line");
        for (const line of ['"""', "block line one", "block line two"]) {
            first.write(line + "\r");
            await first.expect("... ");
        }
        await turn(first, '"""');
        first.write("/exit\r");
        expect(await first.exit()).toBe(0);
        const history = (await readFile(path.join(configHome, "mixtral", "chat_history"), "utf8")).trimEnd().split("\n").map((line) => JSON.parse(line) as string);
        expect(history).toEqual(["remember this line", '"""\nblock line one\nblock line two\n"""', "/exit"]);

        const second = startChat([], {history: true});
        await second.expect(prompt.trimStart());
        // The block, all of it, and Enter sends it again as one message.
        second.write(up + up);
        await second.expect("block line two");
        second.write("\r");
        await second.expect(prompt);
        second.write(up + up + up);
        await second.expect("remember this line");
        // Ctrl+C drops the recalled line instead of sending it; then Ctrl+D leaves.
        second.write("\u0003");
        await second.expect("^C");
        expect(await command(second, "/stats")).toMatch(/messages +2\n/);
        second.write("\u0004");
        expect(await second.exit()).toBe(0);
    });
});
