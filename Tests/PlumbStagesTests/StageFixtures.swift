// A small built-in-task fixture shared by the stage tests: the quick task, a tokenizer trained on its
// corpus, and its SFT demonstrations imported - made once per test process, each a stage run from its
// command-line words as `plumb stage KIND ...` runs it.
import Foundation
import PlumbEval
import PlumbModel
import PlumbPipeline
import PlumbStages
import XCTest

enum StageFixtures {
    struct Fixture {
        let root: URL
        let task: URL
        let tokenizer: URL
        let importSFT: URL
        let modelConfig: URL
    }

    static let shared: Result<Fixture, Error> = Result { try make() }

    static func fixture() throws -> Fixture { try shared.get() }

    /// Runs a stage's command line (`sft --tokenizer T ... --out DIR`, `stage rl ...`, `import FILE --out DIR`,
    /// `task annotate ... --as comparisons`) in this process as `plumb stage KIND` does: the flags parsed
    /// by StageFlags into the StageInvocation the CLI and the pipeline runner build, checked (a bad key
    /// is an error naming its flag), run with the oracle's environment.
    static func plumb(_ arguments: [String]) throws {
        var words = arguments.first == "stage" ? Array(arguments.dropFirst()) : arguments
        if let i = words.firstIndex(of: "--as"), i + 1 < words.count {
            let output = words[i + 1]
            words.removeSubrange(i...(i + 1))
            if output == "comparisons" { words.insert("comparisons", at: words.firstIndex { $0.hasPrefix("--") } ?? words.count) }
        }
        // The kind is the longest run of leading words that names one (`import FILE` leaves FILE a positional word).
        let leading = StageFlags.split(words).0.split(separator: " ").count
        guard let n = (1...max(leading, 1)).reversed().first(where: { StageRegistry.standard.stage(StageKind(words[..<$0].joined(separator: " "))) != nil }),
              let stage = StageRegistry.standard.stage(StageKind(words[..<n].joined(separator: " "))) else {
            throw StageError("no stage kind in \(words.prefix(leading))")
        }
        let flags = Array(words[n...])
        let (entries, inputs, out) = try StageFlags.parse(flags, stage: stage)
        guard let out else { throw StageError("\(stage.kind): give --out RUNS/RUN/STAGE") }
        let invocation = StageInvocation(stage: stage, parameters: entries, inputs: inputs)
        do { try invocation.check() } catch let error as StageParameterError { throw StageError("--\(error.key): \(error.message)") }
        try invocation.run(location: StageLocation(directory: URL(fileURLWithPath: out).standardizedFileURL), environment: PolicyOracle.environment,
                           progress: { _ in }, log: StageRun.standardError)
    }

    private static func make() throws -> Fixture {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("plumb-stage-fixture-\(getpid())")
        try? FileManager.default.removeItem(at: root)
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        let task = root.appendingPathComponent("task")
        try plumb(["task", "generate", "--seed", "3", "--quick", "--out", task.path])
        let tokenizer = root.appendingPathComponent("spm")
        try plumb(["tokenizer", "train", "--input", task.appendingPathComponent("corpus.txt").path,
                   "--out", tokenizer.path, "--vocab-size", "512"])
        let importSFT = root.appendingPathComponent("runs/fixture/import-sft")
        try plumb(["import", task.appendingPathComponent("sft.jsonl").path, "--out", importSFT.path])
        // A small Llama: 2 layers, grouped-query attention (4 heads, 2 kv heads).
        let config = root.appendingPathComponent("model.json")
        try Data("""
        {"hidden_size": 32, "intermediate_size": 88, "num_hidden_layers": 2, "num_attention_heads": 4,
         "num_key_value_heads": 2, "vocab_size": 512, "max_position_embeddings": 64, "tie_word_embeddings": true}
        """.utf8).write(to: config)
        return Fixture(root: root, task: task, tokenizer: tokenizer.appendingPathComponent("spm.model"), importSFT: importSFT, modelConfig: config)
    }

    /// 48 of the task's comparisons imported (a quarter held out), a fresh 2-layer policy, and the
    /// runs root beside them: the inputs of the preference-optimisation stage tests.
    static func comparisonInputs() throws -> (tokenizer: URL, policy: URL, data: URL, runs: URL) {
        let f = try fixture()
        let root = f.root.appendingPathComponent("dpo-inputs")
        let runs = root.appendingPathComponent("runs")
        let data = runs.appendingPathComponent("r/import-comparisons")
        if !FileManager.default.fileExists(atPath: data.appendingPathComponent("manifest.json").path) {
            try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
            let lines = try String(contentsOf: f.task.appendingPathComponent("comparisons.jsonl"), encoding: .utf8).split(separator: "\n").prefix(48)
            let file = root.appendingPathComponent("comparisons.jsonl")
            try (lines.joined(separator: "\n") + "\n").write(to: file, atomically: true, encoding: .utf8)
            try plumb(["import", file.path, "--out", data.path, "--validation-fraction", "0.25", "--test-fraction", "0"])
        }
        let policy = root.appendingPathComponent("policy")
        let config = LlamaConfig(dim: 32, hiddenDim: 64, nLayers: 2, nHeads: 4, nKVHeads: 2, vocabSize: 512, maxSeqLen: 96)
        try LlamaModel(config: config, heads: .lm, seed: 8).save(to: policy)
        return (f.tokenizer, policy, data, runs)
    }
}
