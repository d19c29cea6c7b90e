// `plumb bench decode`: the flags of DecodeBench (PlumbModel/Benchmarks), its report as one JSON line.
import ArgumentParser
import Foundation
import PlumbModel

struct BenchDecodeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "decode",
        abstract: "Greedy decoding throughput of one sequence (compare with llama2.c run.c on the same weights).")

    @OptionGroup var source: ModelSourceOptions
    @OptionGroup var decode: DecodeWeightsOption
    @Option(help: "New tokens to decode.") var newTokens: Int = 256
    @Option(help: "Prompt token ids, comma-separated.") var promptIds: String = "1"
    @Option(help: "Also write the benchmarked weights as a llama2.c .bin here (for run.c).") var exportLlama2c: String?
    @Flag(help: "Include the generated token ids in the output.") var printTokens = false
    @Option(help: "Decode through a LoRA adapter of these settings (e.g. \"rank=8 alpha=16\"), unmerged: PEFT's init, B drawn N(0, 0.02).")
    var lora: String?

    func run() throws {
        var o = DecodeBench.Options()
        (o.newTokens, o.promptIds, o.printTokens, o.lora, o.weights, o.seed) =
            (newTokens, try parseTokenIds(promptIds, option: "--prompt-ids"), printTokens, lora, decode.weights, source.seed)
        o.exportLlama2c = exportLlama2c.map { URL(fileURLWithPath: $0) }
        try source.checkBench("bench decode", positions: o.promptIds.count, option: "--prompt-ids (count)", bytes: o.estimatedBytes)
        try printReport(DecodeBench.run(model: try source.load(), description: source.description, o))
    }
}
