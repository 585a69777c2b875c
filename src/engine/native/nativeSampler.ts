import type {LlamaContextSequence} from "node-llama-cpp";
import type {AddonSampler, NativeContext, SequenceInternals} from "./nativeContext.js";

/**
 * One request's native sampler (node-llama-cpp's AddonSampler), configured through the library's
 * own resolution (its defaults, a seed from the clock when none) so that our drivers sample exactly
 * as `sequence.evaluate()` would. The settings are in the library's shape (generation/samplerSettings.ts).
 */
export class NativeSampler {
    private constructor(
        readonly handle: AddonSampler,
        private readonly resolveConfig: () => object,
        /** The penalties' window moves with every token: the config is applied again before each sample. */
        private readonly refreshEachToken: boolean
    ) {}

    /** The caller has checked the sequence with `canSampleNatively` (nativeContext.ts). */
    static open(sequence: LlamaContextSequence, settings: object, refreshEachToken: boolean): NativeSampler {
        const internals = sequence as unknown as SequenceInternals;
        const handle = new internals.model._llama._bindings.AddonSampler(internals.model._model);
        const resolveConfig = () => internals._resolveSamplerConfig(settings);
        handle.applyConfig(resolveConfig());
        return new NativeSampler(handle, resolveConfig, refreshEachToken);
    }

    /** Starts sampling the logits at `batchLogitIndex` (several samplers may be asked at once: see batchScheduler.ts). */
    sample(native: NativeContext, batchLogitIndex: number): Promise<number> {
        if (this.refreshEachToken) this.handle.applyConfig(this.resolveConfig());
        return native.sampleToken(batchLogitIndex, this.handle);
    }

    dispose() {
        this.handle.dispose();
    }
}

/**
 * Reads the model's own distribution at a place, for logprobs: a greedy sampler (nothing in its chain
 * changes the logits) asked for probabilities gives the softmax of the raw logits over the whole
 * vocabulary, most likely first — before temperature, penalties and the grammar, as OpenAI reports
 * logprobs. It only reads: the request's own sampler still decides the token.
 */
export class DistributionProbe {
    private constructor(private readonly handle: AddonSampler) {}

    static open(sequence: LlamaContextSequence): DistributionProbe {
        return new DistributionProbe(openGreedySampler(sequence));
    }

    /** [token, p, token, p, …] by falling p. */
    async read(native: NativeContext, batchLogitIndex: number): Promise<readonly number[]> {
        const [, probabilities] = await native.sampleToken(batchLogitIndex, this.handle, true);
        return probabilities ?? [];
    }

    dispose() {
        this.handle.dispose();
    }
}

/**
 * Reads the chosen token's confidence under a logit bias on one token (see score/biasedConfidence.ts):
 * a greedy sampler, so nothing but the bias changes the logits. One probe per read in flight.
 */
export class BiasedConfidenceProbe {
    private readonly keys = new Uint32Array(1);
    private readonly values = new Float32Array(1);

    private constructor(private readonly handle: AddonSampler) {}

    static open(sequence: LlamaContextSequence): BiasedConfidenceProbe {
        return new BiasedConfidenceProbe(openGreedySampler(sequence));
    }

    async read(native: NativeContext, batchLogitIndex: number, token: number, bias: number): Promise<{chosen: boolean, confidence: number}> {
        this.keys[0] = token;
        this.values[0] = bias;
        // The binding's raw config keys (what _resolveSamplerConfig makes of a tokenBias).
        this.handle.applyConfig({tokenBiasKeys: this.keys, tokenBiasValues: this.values});
        const [chosen, , confidence] = await native.sampleToken(batchLogitIndex, this.handle, false, true);
        return {chosen: chosen === token, confidence: confidence ?? Number.NaN};
    }

    dispose() {
        this.handle.dispose();
    }
}

/** A sampler whose chain changes no logits: greedy, no penalties (the probes read the raw softmax). */
function openGreedySampler(sequence: LlamaContextSequence): AddonSampler {
    const internals = sequence as unknown as SequenceInternals;
    const handle = new internals.model._llama._bindings.AddonSampler(internals.model._model);
    handle.applyConfig(internals._resolveSamplerConfig({temperature: 0}));
    return handle;
}
