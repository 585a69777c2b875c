import type readline from "node:readline";

type Key = {ctrl?: boolean, meta?: boolean, shift?: boolean, name?: string, sequence?: string};
type KeyListener = (text: string | undefined, key: Key | undefined) => void;

/**
 * The keys pressed while an answer streams. The terminal stays in raw mode throughout: in cooked
 * mode its driver echoed `^C` (and anything typed) into the middle of the answer. readline's own
 * key handling is set aside meanwhile, so nothing it would draw lands in the answer either:
 * Ctrl+C becomes the SIGINT the interrupt controller handles (the first stops the answer, a second
 * exits), and every other key is kept and given to readline once the prompt is back, as if typed
 * there.
 */
export class AnswerKeys {
    private readonly readlineListeners: KeyListener[];
    private held: [string | undefined, Key | undefined][] = [];
    private holding = false;

    /**
     * Made right after `readline.createInterface` on `input`: readline's keypress listeners are the
     * ones added since `listenersBefore` (`input.listeners("keypress")` taken just before it).
     */
    constructor(private readonly input: NodeJS.ReadStream, listenersBefore: readonly unknown[]) {
        this.readlineListeners = input.listeners("keypress").filter((listener) => !listenersBefore.includes(listener)) as KeyListener[];
    }

    /** An answer starts: keys come here until `release`. */
    hold() {
        if (this.holding) return;
        this.holding = true;
        for (const listener of this.readlineListeners) this.input.off("keypress", listener);
        this.input.on("keypress", this.onKey);
    }

    /** The prompt is back: readline takes the keys again, first those pressed meanwhile. */
    release(rl: readline.Interface) {
        if (!this.holding) return;
        this.holding = false;
        this.input.off("keypress", this.onKey);
        // In front, where readline put them, so other listeners still see each key after readline.
        for (const listener of [...this.readlineListeners].reverse()) this.input.prependListener("keypress", listener);
        const held = this.held;
        this.held = [];
        for (const [text, key] of held) {
            if (key != null) rl.write(text ?? null, key);
            else if (text != null) rl.write(text);
        }
    }

    private readonly onKey: KeyListener = (text, key) => {
        if (key?.ctrl === true && key.name === "c") {
            // What the terminal's Ctrl+C would have sent in cooked mode, on every platform.
            process.emit("SIGINT", "SIGINT");
            return;
        }
        this.held.push([text, key]);
    };
}
