// LoRA interchange on the command line:
//   plumb export merge ADAPTER [--base DIR] --out DIR    the base with the adapter merged in, as a
//                                                         Hugging Face checkpoint (config.json + model.safetensors)
//   plumb export adapter ADAPTER --out DIR                the adapter as PEFT's files, uncompressed
//   plumb export logits MODEL --tokens 1,2,3 [--adapter ADAPTER]   every position's logits, one JSON array a line
// ADAPTER is a LoRA training stage or a PEFT directory; its base is the one its adapter_config.json
// names (`base_model_name_or_path`) unless --base gives another (which must have the recorded
// checksum). pipelines/check-peft.sh compares these with PEFT and transformers.
import ArgumentParser
import Foundation
import PlumbModel
import PlumbStages
import PlumbTensor

struct ExportMergeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "merge", abstract: "Write a LoRA adapter merged into its base as a Hugging Face checkpoint (config.json + model.safetensors).")

    @Argument(help: "A LoRA training stage or a PEFT adapter directory.") var adapter: String
    @Option(help: "The base model (default: the one the adapter's config names).") var base: String?
    @Option(help: "The directory to write.") var out: String
    @Flag(help: "Replace an existing checkpoint in --out.") var force = false

    func run() throws {
        let outURL = URL(fileURLWithPath: out)
        if !force && FileManager.default.fileExists(atPath: outURL.appendingPathComponent("model.safetensors").path) {
            throw CLIError("\(out) holds a checkpoint", hint: "pass --force to replace it")
        }
        let (model, lora) = try StageModel.loadAdapter(adapter, base: base)
        try lora.merged(with: model).save(to: outURL, metadata: ["merged_adapter": adapter])
        print("merged \(lora.allModules.count) adapted projections (rank \(lora.settings.rank), alpha \(lora.settings.alpha)) -> \(out)")
    }
}

struct ExportAdapterCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "adapter", abstract: "Write a LoRA stage's adapter as PEFT's files (adapter_config.json, adapter_model.safetensors).")

    @Argument(help: "A LoRA training stage or a PEFT adapter directory.") var adapter: String
    @Option(help: "The base model (default: the one the adapter's config names).") var base: String?
    @Option(help: "Also write the base as a Hugging Face checkpoint into this directory, and name it as the adapter's base.")
    var withBase: String?
    @Option(help: "The directory to write.") var out: String

    func run() throws {
        let (model, lora) = try StageModel.loadAdapter(adapter, base: base)
        var name = base ?? PEFTAdapterFormat.recordedBaseName(URL(fileURLWithPath: adapter))
        if let withBase {
            try model.save(to: URL(fileURLWithPath: withBase))
            name = URL(fileURLWithPath: withBase).standardizedFileURL.path
        }
        try PEFTAdapterFormat.save(lora, base: model, baseName: name, to: URL(fileURLWithPath: out))
        print("adapter -> \(out)" + (withBase.map { ", base -> \($0)" } ?? ""))
    }
}

struct ExportLogitsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "logits", abstract: "Print a model's next-token logits at every position of one token sequence (a JSON array per position).")

    @Argument(help: "A training stage or Hugging Face directory.") var model: String
    @Option(help: "Token ids, comma-separated.") var tokens: String
    @Option(help: "A LoRA adapter to run the model with (unmerged).") var adapter: String?

    func run() throws {
        let ids = try tokens.split(separator: ",").map { text -> Int32 in
            guard let id = Int32(text.trimmingCharacters(in: .whitespaces)) else { throw CLIError("--tokens: '\(text)' is not a token id") }
            return id
        }
        guard !ids.isEmpty else { throw CLIError("--tokens: give at least one token id") }
        let base = try StageModel.load(URL(fileURLWithPath: model))
        let lora = try adapter.map { try PEFTAdapterFormat.load(URL(fileURLWithPath: $0), base: base, baseSource: model) }
        for row in try base.positionLogits(ids, adapter: lora) { try printJSON(row.map(Double.init)) }
    }
}
