/**
 * What a quant of Mixtral 8x7B is published to cost in perplexity (Wikitext-2 test set, context 512,
 * against Q8_0), with where each figure comes from. They disagree with each other and are old — k-quant
 * mixes for MoE were broken until llama.cpp PR 4872, and community figures do not always reproduce
 * (llama.cpp issue 5451) — so doctor and the docs show them next to the way to measure your own:
 * `mixtral perplexity`.
 */
export type PublishedFigure = {variant: "base" | "instruct", quant: string, ppl: number, q8Ppl: number, source: string};

export const publishedFigures: readonly PublishedFigure[] = [
    {variant: "base", quant: "Q3_K_M", ppl: 4.419, q8Ppl: 4.1049, source: "stock llama.cpp, Jan 2024 (ikawrakow's model card)"},
    {variant: "base", quant: "Q3_K_M", ppl: 4.288, q8Ppl: 4.1049, source: "improved k-quants (ikawrakow's model card)"},
    {variant: "instruct", quant: "Q4_K_M", ppl: 4.511, q8Ppl: 4.409, source: "M2 Max (llama.cpp PR 4406)"},
    {variant: "instruct", quant: "Q3_K_M", ppl: 4.664, q8Ppl: 4.409, source: "M2 Max (llama.cpp PR 4406)"}
];

/** "+7.7 %": the perplexity a quant adds over Q8_0. */
export function pplIncrease(figure: PublishedFigure): string {
    return `+${(100 * (figure.ppl / figure.q8Ppl - 1)).toFixed(1)} %`;
}

/** The figures published for a quant, either variant (the other's is the nearest evidence there is). */
export function publishedFor(quant: string): PublishedFigure[] {
    return publishedFigures.filter((figure) => figure.quant === quant);
}

export const measureYourOwn = "measure it on your own text: mixtral perplexity -m <quant> --kl-divergence-base <base.kld> (docs/commands/perplexity.md)";
