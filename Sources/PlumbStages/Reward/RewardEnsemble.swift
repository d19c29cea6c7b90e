// A reward-model ensemble: `ensemble.json` in a `rm train --ensemble N` stage lists its N members and
// the scale of each. Member 0 is the stage's own model (so the stage still serves as one reward model);
// members 1..N-1 are complete stages of their own under `members/member-<i>/`. Members differ by seed:
// data order and the fresh reward head's initialisation (Coste et al. 2023 train theirs the same way).
//
// Each member's scale (mu_i, sigma_i: mean and population standard deviation of its raw scores on the
// stage's validation responses, chosen and rejected alike) is measured once, when the stage trains, so
// a conservative score (ConservativeRule) of a response depends on that response alone.
import Foundation
import PlumbStore

public struct RewardEnsemble: Codable, Equatable, Sendable {
    public static let fileName = "ensemble.json"
    public static let currentFormatVersion = 1

    public struct Member: Codable, Equatable, Sendable {
        /// Relative to the ensemble's stage directory ("." is the stage itself), or absolute.
        public var path: String
        public var seed: UInt64
        /// SHA-256 of the member's weights file as stored (StageModel.inputFile).
        public var modelSHA256: String
        /// mu_i and sigma_i of the header comment.
        public var scale: Whitening

        public init(path: String, seed: UInt64, modelSHA256: String, scale: Whitening) {
            self.path = path; self.seed = seed; self.modelSHA256 = modelSHA256; self.scale = scale
        }
    }

    public var formatVersion: Int
    /// PreferenceDimension's raw value.
    public var dimension: String
    public var members: [Member]

    public init(dimension: String, members: [Member]) {
        formatVersion = Self.currentFormatVersion
        self.dimension = dimension
        self.members = members
    }

    /// The ensemble of stage `directory`; nil when it has no `ensemble.json` (a single reward model).
    public static func load(from directory: URL) throws -> RewardEnsemble? {
        let file = directory.appendingPathComponent(fileName)
        guard FileManager.default.fileExists(atPath: file.path) else { return nil }
        let ensemble: RewardEnsemble
        do { ensemble = try JSONDecoder().decode(RewardEnsemble.self, from: Data(contentsOf: file)) } catch {
            throw StageError("\(file.path): not a reward-model ensemble (\(error))")
        }
        guard ensemble.formatVersion == currentFormatVersion else {
            throw StageError("\(file.path): ensemble format version \(ensemble.formatVersion); this build reads version \(currentFormatVersion)")
        }
        guard !ensemble.members.isEmpty else { throw StageError("\(file.path): the ensemble lists no members") }
        for (i, m) in ensemble.members.enumerated() where !(m.scale.std > 0 && m.scale.mean.isFinite && m.scale.std.isFinite) {
            throw StageError("\(file.path): member \(i) (\(m.path)): scale mean \(m.scale.mean), std \(m.scale.std); a finite mean and a positive std are required")
        }
        return ensemble
    }

    public func save(to directory: URL) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        try encoder.encode(self).write(to: directory.appendingPathComponent(Self.fileName), options: .atomic)
    }

    /// Member `i`'s directory.
    public func directory(of i: Int, in stage: URL) -> URL {
        let path = members[i].path
        if path == "." { return stage }
        return path.hasPrefix("/") ? URL(fileURLWithPath: path) : stage.appendingPathComponent(path)
    }

    /// Refuses, before any work, an ensemble whose members do not belong together: a member whose
    /// weights changed since the ensemble was written, or one trained on another dimension, with
    /// another tokenizer or another chat template than member 0 (each read from the member's manifest).
    public func check(stage: URL) throws {
        let first = try ModelProvenance.read(directory(of: 0, in: stage))
        for i in members.indices {
            let dir = directory(of: i, in: stage)
            let sha = try SHA256.hex(ofFile: StageModel.inputFile(dir))
            guard sha == members[i].modelSHA256 else {
                throw StageError("\(stage.path)/\(Self.fileName): member \(i) (\(dir.path)) has weights with sha256 \(sha.prefix(12)), the ensemble recorded \(members[i].modelSHA256.prefix(12)); retrain the ensemble")
            }
            // A field only one side records (a plain Hugging Face member has no manifest) cannot be compared.
            let p = try ModelProvenance.read(dir)
            if let d = p.dimension, d != dimension {
                throw StageError("\(stage.path): ensemble member \(i) (\(dir.path)) is a \(d)-dimension reward model; the ensemble is for \(dimension)")
            }
            if let sha = p.tokenizerSHA256, let first = first.tokenizerSHA256, sha != first {
                throw StageError("\(stage.path): ensemble member \(i) (\(dir.path)) was trained with the tokenizer \(p.tokenizerPath ?? "?") (sha256 \(sha.prefix(12))), member 0 with sha256 \(first.prefix(12)); every member must share one tokenizer")
            }
            if let template = p.template, let first = first.template, template != first {
                throw StageError("\(stage.path): ensemble member \(i) (\(dir.path)) was trained with the chat template '\(template)', member 0 with '\(first)'; every member must share one template")
            }
        }
    }

    /// The directories whose models a stage using this ensemble reads, for its cache key: every
    /// member's weights file and `ensemble.json` itself.
    public static func inputFiles(_ stage: URL) throws -> [URL] {
        guard let ensemble = try load(from: stage) else { return [StageModel.inputFile(stage)] }
        return ensemble.members.indices.map { StageModel.inputFile(ensemble.directory(of: $0, in: stage)) }
            + [stage.appendingPathComponent(fileName)]
    }
}
