import {beforeAll, describe, expect, test} from "vitest";
import {documentedCommands, fencedBlocks, registryParser, shellBlockInfos, shellCommands} from "./markdownDocs.js";

/**
 * Every `mixtral …` command shown in README.md and docs/ parses with the real command registry
 * (dist/src/cli/program.js, built by `npm run build`): its command and subcommand exist, every flag
 * exists on that command, and the values pass the flag's choices and parser. The rule that picks
 * them: fenced blocks marked sh (bash, shell, zsh), every simple command of them whose program is
 * `mixtral` — in a pipeline, after `$ `, `do`, or `NAME=value`, inside `$(…)` too. REPL sessions and
 * printed output go in ```text blocks, which are not run.
 */
let parse: Awaited<ReturnType<typeof registryParser>>;
beforeAll(async () => {
    parse = await registryParser();
});

describe("commands in README.md and docs/", () => {
    const commands = documentedCommands();

    test("there are plenty of them", () => {
        expect(commands.length).toBeGreaterThan(60);
    });

    test("each parses with the command registry", async () => {
        const failures: string[] = [];
        for (const command of commands) {
            const error = await parse(command.words.slice(1));
            if (error != null) failures.push(`${command.file}:${command.line}: ${command.words.join(" ")}\n    ${error}`);
        }
        expect(failures).toEqual([]);
    });
});

describe("the checker", () => {
    test("refuses an unknown command, flag, choice or value", async () => {
        expect(await parse(["frobnicate"])).toMatch(/unknown command/);
        expect(await parse(["chat", "--no-such-flag"])).toMatch(/unknown option '--no-such-flag'/);
        expect(await parse(["serve", "--lines"])).toMatch(/unknown option '--lines'/);
        expect(await parse(["bench", "-o", "xml"])).toMatch(/Allowed choices are/);
        expect(await parse(["complete", "--temperature", "hot", "x"])).toMatch(/expected a number/);
        expect(await parse(["models", "rm"])).toMatch(/missing required argument/);
        expect(await parse(["pull", "a", "b"])).toMatch(/too many arguments/);
        expect(await parse(["complete", "-ctk", "q5_1", "x"])).toMatch(/Allowed choices are/);
    });

    test("accepts what the CLI accepts, llama.cpp's spellings and --lora-scaled included", async () => {
        expect(await parse(["--help"])).toBeNull();
        expect(await parse(["--version"])).toBeNull();
        expect(await parse(["run", "-m", "x.gguf", "-ctk", "q8_0", "-ctv", "q8_0", "-fa", "on"])).toBeNull();
        expect(await parse(["bench", "-m", "x.gguf", "-fa", "1", "-ctk", "f16,q8_0"])).toBeNull();
        expect(await parse(["complete", "--lora-scaled", "a.gguf", "0.5", "hello"])).toBeNull();
        expect(await parse(["models", "path", "Q4_K_M"])).toBeNull();
    });

    test("a fake documentation line with a flag that does not exist fails the check", async () => {
        const markdown = "Text.\n\n```sh\necho hi | mixtral complete -m model.gguf --max-tokenz 5 > out.txt\n```\n";
        const [block] = fencedBlocks(markdown);
        const [, command] = shellCommands(block!.body, block!.line);
        expect(command).toEqual({words: ["mixtral", "complete", "-m", "model.gguf", "--max-tokenz", "5"], line: 4});
        expect(await parse(command!.words.slice(1))).toMatch(/unknown option '--max-tokenz'/);
    });

    test("reads shell: quotes, continuations, comments, pipes, redirections, here-documents, $(…)", () => {
        const script = [
            "MIXTRAL_API_KEY=k mixtral serve -m 'a b.gguf' \\",
            "  --port 0 &   # in the background",
            "cat > s.json <<'EOF'",
            "mixtral this-is-data --not-a-command",
            "EOF",
            "for f in *.txt; do mixtral complete -m \"$(mixtral models path Q4_K_M)\" < \"$f\" 2>&1 >> \"$f.out\"; done",
            "$ mixtral doctor --json | jq .plan && mixtral list",
            "# mixtral commented --out"
        ].join("\n");
        const found = shellCommands(script).filter((command) => command.words[0] === "mixtral").map((command) => command.words.join(" "));
        expect(found).toEqual([
            "mixtral serve -m a b.gguf --port 0",
            "mixtral models path Q4_K_M",
            "mixtral complete -m $(mixtral models path Q4_K_M)",
            "mixtral doctor --json",
            "mixtral list"
        ]);
    });

    test("only shell blocks are read: REPL sessions and output are ```text", () => {
        const markdown = "```text\n> mixtral is great --really\n```\n```sh\nmixtral chat\n```\n";
        const blocks = fencedBlocks(markdown).filter((block) => shellBlockInfos.has(block.info));
        expect(blocks.map((block) => block.body)).toEqual(["mixtral chat"]);
    });
});
