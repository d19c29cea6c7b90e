// The generator's settings: sizes, prompt mix, SFT flaw rates, candidate qualities and annotation
// noise. Two presets: `standard` (the main job) and `quick` (tests and CI). data/task-*.json hold the
// same values as files; `plumb task generate --settings FILE` reads such a file.

import Foundation

public struct TaskSettings: Codable, Equatable, Sendable {
    public struct Sizes: Codable, Equatable, Sendable {
        public var corpusPassages: Int
        public var sftDemonstrations: Int
        /// Prompts sent to annotators, split into comparisons / rankings / edits by the shares below.
        public var annotatedPrompts: Int
        public var rejectionSamplingPrompts: Int
        public var ppoPrompts: Int
        public var evalPrompts: Int
        public var rewardEvalPairs: Int
        /// Training-distribution prompts for validation (`prompts-validate.jsonl`); absent in
        /// settings files written before it existed, which then get none.
        public var validationPrompts: Int?

        public var validationPromptCount: Int { validationPrompts ?? 0 }
    }

    /// Share of each prompt family in every prompt set (sums to 1).
    public struct PromptMix: Codable, Equatable, Sendable {
        public var helpfulness: Double
        public var harmful: Double
        public var borderline: Double
    }

    /// Flaws planted in SFT demonstrations, each the probability of the flaw in its family.
    public struct SFTFlaws: Codable, Equatable, Sendable {
        /// Helpfulness demonstrations with a wrong answer.
        public var wrongAnswer: Double
        /// Helpfulness demonstrations that ramble past the concise limit.
        public var rambling: Double
        /// Harmful requests that the demonstration complies with.
        public var harmfulCompliance: Double
        /// Benign look-alikes that the demonstration refuses.
        public var overRefusal: Double
    }

    /// Qualities of the candidates that annotators compare (stand-ins for policy samples).
    public struct CandidateRates: Codable, Equatable, Sendable {
        public var helpfulnessRefusal: Double
        public var helpfulnessCorrect: Double
        public var harmfulRefusal: Double
        public var borderlineRefusal: Double
        public var borderlineCorrect: Double
        public var rambling: Double
    }

    public struct Annotation: Codable, Equatable, Sendable {
        /// Llama 2 / TigerBot split of annotated prompts: the rest are pairwise comparisons.
        public var rankingShare: Double
        public var editShare: Double
        /// Responses per human-ranking task.
        public var rankingSize: Int
        /// Standard deviation of the noise on the score gap an annotator perceives (sets the strength).
        public var strengthNoise: Double
        /// Standard deviation of the noise on each score a ranking annotator perceives.
        public var rankingNoise: Double
        /// Probability that a per-response safety label is wrong.
        public var safetyLabelNoise: Double
        public var annotators: [AnnotatorProfile]
    }

    public var formatVersion: Int
    public var sizes: Sizes
    public var promptMix: PromptMix
    /// The evaluation prompts' mix, when it differs from `promptMix`: more safety prompts than
    /// training sees, so the violation and false-refusal rates are measured on enough prompts.
    public var evalPromptMix: PromptMix?
    public var sftFlaws: SFTFlaws
    public var candidates: CandidateRates
    public var annotation: Annotation

    public static let standard = TaskSettings(
        formatVersion: 1,
        sizes: Sizes(corpusPassages: 12_000, sftDemonstrations: 6_000, annotatedPrompts: 8_000,
                     rejectionSamplingPrompts: 2_000, ppoPrompts: 2_000, evalPrompts: 1_300, rewardEvalPairs: 1_000,
                     validationPrompts: 500),
        promptMix: PromptMix(helpfulness: 0.7, harmful: 0.15, borderline: 0.15),
        evalPromptMix: PromptMix(helpfulness: 0.4, harmful: 0.3, borderline: 0.3),
        sftFlaws: SFTFlaws(wrongAnswer: 0.15, rambling: 0.2, harmfulCompliance: 0.25, overRefusal: 0.15),
        candidates: CandidateRates(helpfulnessRefusal: 0.05, helpfulnessCorrect: 0.6, harmfulRefusal: 0.5,
                                   borderlineRefusal: 0.35, borderlineCorrect: 0.7, rambling: 0.35),
        annotation: Annotation(rankingShare: 0.05, editShare: 0.05, rankingSize: 4, strengthNoise: 0.3,
                               rankingNoise: 0.6, safetyLabelNoise: 0.05, annotators: AnnotatorProfile.standardPanel))

    /// Small sizes, same rates: for tests and CI.
    public static var quick: TaskSettings {
        var settings = standard
        settings.sizes = Sizes(corpusPassages: 1_000, sftDemonstrations: 1_500, annotatedPrompts: 3_000,
                               rejectionSamplingPrompts: 200, ppoPrompts: 200, evalPrompts: 200, rewardEvalPairs: 300,
                               validationPrompts: 100)
        return settings
    }

    /// Throws a message naming the first field that is out of range.
    public func validate() throws {
        func rate(_ value: Double, _ name: String) throws {
            guard (0...1).contains(value) else { throw TaskError.invalidSettings("\(name) = \(value) is not in [0, 1]") }
        }
        let s = sizes
        for (value, name) in [(s.corpusPassages, "sizes.corpusPassages"), (s.sftDemonstrations, "sizes.sftDemonstrations"),
                              (s.annotatedPrompts, "sizes.annotatedPrompts"), (s.rejectionSamplingPrompts, "sizes.rejectionSamplingPrompts"),
                              (s.ppoPrompts, "sizes.ppoPrompts"), (s.validationPromptCount, "sizes.validationPrompts"), (s.evalPrompts, "sizes.evalPrompts"), (s.rewardEvalPairs, "sizes.rewardEvalPairs")]
        where value < 0 { throw TaskError.invalidSettings("\(name) = \(value) is negative") }
        for (mix, name) in [(promptMix, "promptMix"), (evalPromptMix, "evalPromptMix")] {
            guard let mix else { continue }
            let mixSum = mix.helpfulness + mix.harmful + mix.borderline
            guard abs(mixSum - 1) < 1e-9, min(mix.helpfulness, mix.harmful, mix.borderline) >= 0 else {
                throw TaskError.invalidSettings("\(name) sums to \(mixSum), not 1, or has a negative share")
            }
        }
        for (value, name) in [(sftFlaws.wrongAnswer, "sftFlaws.wrongAnswer"), (sftFlaws.rambling, "sftFlaws.rambling"),
                              (sftFlaws.harmfulCompliance, "sftFlaws.harmfulCompliance"), (sftFlaws.overRefusal, "sftFlaws.overRefusal"),
                              (annotation.rankingShare + annotation.editShare, "annotation.rankingShare + editShare"),
                              (annotation.safetyLabelNoise, "annotation.safetyLabelNoise")] {
            try rate(value, name)
        }
        guard annotation.rankingSize >= 2 else { throw TaskError.invalidSettings("annotation.rankingSize must be at least 2") }
        guard !annotation.annotators.isEmpty else { throw TaskError.invalidSettings("annotation.annotators is empty") }
        for profile in annotation.annotators {
            try rate(profile.flipRate + abs(profile.lengthBias), "annotators[\(profile.name)].flipRate + |lengthBias|")
            try rate(profile.flipRate - abs(profile.lengthBias), "annotators[\(profile.name)].flipRate - |lengthBias|")
        }
    }

    /// Settings from a JSON file, validated; errors name the file and the field.
    public static func load(from url: URL) throws -> TaskSettings {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw TaskError.invalidSettings("cannot read \(url.path): \(error.localizedDescription)")
        }
        do {
            let settings = try JSONDecoder().decode(TaskSettings.self, from: data)
            try settings.validate()
            return settings
        } catch let error as TaskError {
            throw TaskError.invalidSettings("\(url.path): \(error)")
        } catch {
            throw TaskError.invalidSettings("\(url.path): \(error)")
        }
    }
}

public enum TaskError: Error, CustomStringConvertible {
    case invalidSettings(String)
    case cannotWrite(String)
    case heldOut(String)

    public var description: String {
        switch self {
        case .heldOut(let message): return "held-out split: \(message)"
        case .invalidSettings(let message): return "task settings: \(message)"
        case .cannotWrite(let message): return "task output: \(message)"
        }
    }
}
