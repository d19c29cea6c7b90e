// The unpaired examples a KTO stage trains and validates on, from its data stages:
// - `feedbacks-train` / `feedbacks-validation` (feedback/1: KTO labels, thumbs), each as it is;
// - `labelled-responses-train` / `-validation` (labelled-response/1: BeaverTails-style safety labels),
//   each as feedback on safety: a safe response desirable, an unsafe one undesirable;
// - `comparisons-train` / `comparisons-validation` (imports, rs pairs), each comparison as two
//   examples, its chosen response desirable and its rejected one undesirable (TRL's conversion of
//   paired data for KTOTrainer). A comparison whose two responses are identical is set aside.
// Each example then gets its mismatched twin (KTO's KL estimate, KTOObjective): its own prompt with
// the response of the next example in a seeded order of the split.
import Foundation
import PlumbData
import PlumbTensor

/// One judged response before tokenisation.
struct UnpairedExample {
    var id: String
    var prompt: [Message]
    var response: String
    var desirable: Bool
    var source: String
}

struct KTOData {
    var train: [UnpairedExample] = []
    var validation: [UnpairedExample] = []
    /// Comparisons with identical responses: nothing to learn, quarantined by the stage.
    var identical: [Comparison] = []
    /// Examples per source stage (the directory's name) and split.
    var sources: [String: [String: Int]] = ["train": [:], "validation": [:]]
    var files: [URL] = []

    static func load(stages: [URL]) throws -> KTOData {
        var out = KTOData()
        for stage in stages {
            let source = SourcedComparisons.sourceName(stage)
            for split in [Split.train, .validation] {
                var examples: [UnpairedExample] = []
                let feedback = try StageRecordReader.read(Feedback.self, output: "feedbacks-\(split.rawValue)", from: [stage])
                examples += feedback.records.map {
                    UnpairedExample(id: $0.id, prompt: $0.prompt.messages, response: $0.response, desirable: $0.desirable, source: source)
                }
                let labelled = try StageRecordReader.read(LabelledResponse.self, output: "labelled-responses-\(split.rawValue)", from: [stage])
                examples += labelled.records.map {
                    UnpairedExample(id: $0.id, prompt: $0.prompt.messages, response: $0.response, desirable: $0.safe, source: source)
                }
                let comparisons = try StageRecordReader.read(Comparison.self, output: "comparisons-\(split.rawValue)", from: [stage])
                for c in comparisons.records {
                    guard c.chosen != c.rejected else { out.identical.append(c); continue }
                    examples.append(UnpairedExample(id: c.id + "/chosen", prompt: c.chosenPrompt, response: c.chosen, desirable: true, source: source))
                    examples.append(UnpairedExample(id: c.id + "/rejected", prompt: c.rejectedPrompt, response: c.rejected, desirable: false, source: source))
                }
                out.files += feedback.files + labelled.files + comparisons.files
                out.sources[split.rawValue]![source, default: 0] += examples.count
                if split == .train { out.train += examples } else { out.validation += examples }
            }
        }
        guard !out.train.isEmpty else {
            throw StageError("kto: no feedbacks-train, labelled-responses-train or comparisons-train records in \(stages.map(\.path).joined(separator: ", "))")
        }
        return out
    }

    /// The examples tokenised, each with its mismatched twin: in a seeded order of the split, the
    /// k-th example's prompt with the (k+1)-th example's response (the last with the first's).
    /// Returns the examples (reference figures still 0) and how many sequences were cut to the window.
    static func encode(_ examples: [UnpairedExample], templated: TemplatedTokenizer, seqLen: Int,
                       seed: UInt64) throws -> (examples: [KTOExample], truncated: Int) {
        var order = Array(examples.indices)
        var rng = SeededRNG(seed: seed)
        order.shuffle(using: &rng)
        var next = [Int](repeating: 0, count: examples.count)
        for (k, i) in order.enumerated() { next[i] = order[(k + 1) % order.count] }
        var out: [KTOExample] = [], truncated = 0
        for (i, e) in examples.enumerated() {
            let own = try templated.encode(prompt: e.prompt, response: e.response)
            let twin = try templated.encode(prompt: e.prompt, response: examples[next[i]].response)
            truncated += SequenceCut.fit(own, seqLen: seqLen, use: .nextToken).cut > 0 ? 1 : 0
            out.append(KTOExample(id: e.id, example: try ResponseLikelihood.example(own, seqLen: seqLen), desirable: e.desirable,
                                  reference: 0, mismatched: try ResponseLikelihood.example(twin, seqLen: seqLen), mismatchedReference: 0))
        }
        return (out, truncated)
    }
}
