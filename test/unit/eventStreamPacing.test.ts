import {createServer, type Server, type ServerResponse} from "node:http";
import type {AddressInfo} from "node:net";
import {afterEach, describe, expect, test} from "vitest";
import {EventStream} from "../../src/server/openai/eventStream.js";

// A real HTTP response; the writes the stream makes are counted on it (one write = one wake-up of the client).
let server: Server | undefined;
afterEach(() => new Promise<void>((resolve) => server == null ? resolve() : server.close(() => resolve())));

async function streamed(intervalMs: number, script: (stream: EventStream, writes: readonly string[]) => Promise<void>) {
    const writes: string[] = [];
    let failure: unknown;
    server = createServer((_request, response: ServerResponse) => {
        const write = response.write.bind(response) as (chunk: string) => boolean;
        response.write = ((chunk: string) => (writes.push(chunk), write(chunk))) as typeof response.write;
        // A failed expectation inside must still end the response, or the request would hang.
        script(new EventStream(response, intervalMs), writes).catch((error: unknown) => {
            failure = error;
            response.destroy();
        });
    });
    await new Promise<void>((resolve) => server!.listen(0, "127.0.0.1", resolve));
    const {port} = server.address() as AddressInfo;
    const body = await (await fetch(`http://127.0.0.1:${port}/`)).text().catch(() => "");
    if (failure != null) throw failure;
    return {writes, blocks: body.split("\n\n").filter((block) => block !== "")};
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("EventStream pacing", () => {
    test("0 ms writes every block on its own", async () => {
        const {writes, blocks} = await streamed(0, async (stream) => {
            for (let index = 0; index < 5; index++) stream.send({index});
            stream.end();
        });
        expect(writes).toHaveLength(5);
        expect(blocks).toEqual([0, 1, 2, 3, 4].map((index) => `data: {"index":${index}}`).concat("data: [DONE]"));
    });

    test("blocks that come faster than the interval share writes; none is lost, order kept, the first goes out at once", async () => {
        const {writes, blocks} = await streamed(200, async (stream) => {
            for (let index = 0; index < 20; index++) {
                stream.send({index});
                await sleep(5);
            }
            stream.end();
        });
        // The first block alone, then ~100 ms of blocks wait for the interval: far fewer writes than blocks.
        expect(writes[0]).toBe('data: {"index":0}\n\n');
        expect(writes.length).toBeLessThanOrEqual(3);
        expect(blocks).toEqual(Array.from({length: 20}, (_, index) => `data: {"index":${index}}`).concat("data: [DONE]"));
    });

    test("a held block goes out when its interval ends, without waiting for the next one", async () => {
        const {writes} = await streamed(50, async (stream, sent) => {
            stream.send({index: 0});
            stream.send({index: 1});
            await sleep(150);
            expect(sent).toEqual(['data: {"index":0}\n\n', 'data: {"index":1}\n\n']);
            stream.end();
        });
        expect(writes).toHaveLength(2);
    });

    test("an opening block (the chat role) does not hold back the first text", async () => {
        const {writes} = await streamed(1000, async (stream, sent) => {
            stream.send({role: "assistant"}, {opening: true});
            stream.send({text: "first"});
            await sleep(20);
            expect(sent).toEqual(['data: {"role":"assistant"}\n\n', 'data: {"text":"first"}\n\n']);
            stream.end();
        });
        expect(writes).toHaveLength(2);
    });
});
