import {EndpointError, ExitCode, UsageError} from "../../errors.js";
import {createServingPrinter} from "../../bench/printers/servingPrinters.js";
import {runServingBench, type ServingLevel} from "../../bench/serving/runServingBench.js";
import {describeEndpoint, parseEndpoint} from "../../remote/endpointUrl.js";
import {listModelIds} from "../../remote/openAiClient.js";
import {clientTimeoutsFrom, type ClientTimeoutFlags} from "../flags/clientTimeoutOptions.js";
import {integerListError, outputFormatFrom, type BenchOptions} from "../flags/benchFlags.js";
import {interruptController} from "../interrupt.js";
import {apiKey, chooseModelId} from "../openGenerator.js";
import {startSpinner, type Spinner} from "../ui/spinner.js";
import {drainStdout, writeOut} from "../ui/stdout.js";
import {logLine, terminalPolicy} from "../ui/terminal.js";

export type ServingBenchFlags = BenchOptions & ClientTimeoutFlags & {endpoint: string};

/**
 * `mixtral bench --endpoint <url>`: a serving benchmark like vLLM's benchmark_serving against any
 * OpenAI-compatible server. For each prompt length, generation length and concurrency level it
 * sends --requests streamed completions, at most `concurrency` at a time, and prints one row:
 * requests/s, output tok/s, and time to first token and inter-token latency (median, p99).
 */
export async function runServingBenchCommand(options: ServingBenchFlags) {
    const baseUrl = parseEndpoint(options.endpoint);
    const format = outputFormatFrom(options.output);
    const inputLens = atLeastOne("-p", options.nPrompt);
    const outputLens = atLeastOne("-n", options.nGen);
    const models = options.model ?? [];
    if (models.length > 1) throw new UsageError("With --endpoint, give at most one --model: the name the server knows the model by.");
    const levels: ServingLevel[] = inputLens.flatMap((inputLen) => outputLens.flatMap((outputLen) =>
        options.concurrency.map((level) => ({concurrency: level, inputLen, outputLen}))));

    const policy = terminalPolicy();
    const interrupt = interruptController();
    let spinner: Spinner | undefined;
    const stopSpinner = () => {
        spinner?.stop();
        spinner = undefined;
    };
    let lastLogged = "";
    const status = (text: string) => {
        if (policy.animate) {
            if (spinner == null) spinner = startSpinner(text);
            else spinner.text = text;
            return;
        }
        // Without a terminal: one line a level, not one a request.
        const level = text.split(":")[0] ?? text;
        if (level !== lastLogged) logLine(`bench ${text}`);
        lastLogged = level;
    };
    try {
        const endpoint = {baseUrl, apiKey: apiKey(), timeouts: clientTimeoutsFrom(options)};
        const model = chooseModelId(await listModelIds(endpoint, interrupt.signal), models[0]);
        if (model == null)
            throw new EndpointError(`${describeEndpoint(baseUrl)} lists no models (GET /models).`, {hint: "Pass the model name the server expects with --model."});
        const printer = createServingPrinter(format, {endpoint: describeEndpoint(baseUrl), paint: {dim: policy.colors.dim, bold: policy.colors.bold, bar: policy.colors.cyan}});
        let headerWritten = false;
        const write = (text: string) => {
            stopSpinner();
            writeOut(text);
        };
        const {failedRequests} = await runServingBench({
            endpoint,
            endpointLabel: describeEndpoint(baseUrl),
            model,
            levels,
            requests: options.requests,
            warmup: options.warmup,
            signal: interrupt.signal,
            onProgress: status,
            onFailure: (message) => {
                stopSpinner();
                if (options.verbose === true) logLine(`${policy.stderrColors.red("failed:")} ${message}`);
            },
            onRow: (row) => {
                if (!headerWritten) write(printer.header());
                headerWritten = true;
                write(printer.row(row));
            }
        });
        if (headerWritten) write(printer.footer());
        stopSpinner();
        if (failedRequests > 0) {
            logLine(`${failedRequests} requests failed${options.verbose === true ? "" : " (--verbose shows why)"}.`);
            process.exitCode = ExitCode.failure;
        }
        await drainStdout();
    } finally {
        stopSpinner();
        interrupt.dispose();
    }
}

/** -p and -n allow 0 ("no such test") in bench; a request always has a prompt and generates something. */
function atLeastOne(flag: string, values: number[]): number[] {
    if (values.some((value) => value < 1)) throw integerListError(flag, values.join(","), 1);
    return values;
}
