// Members 1..N-1 of `rm train --ensemble N`, after member 0 has trained into the stage itself. Member i
// has the stage's parameters with seed + i (so its data order and fresh head differ), the same
// comparisons, and is a complete stage of its own under `members/member-<i>/` (its own manifest, run
// lock, checkpoints and metrics), so an interrupted ensemble resumes member by member: a member whose
// manifest is complete under the member's key is reused, an unfinished one resumes from its checkpoints.
// Then each member's scale is measured (RewardEnsemble) and `ensemble.json` written.
import Foundation
import PlumbModel
import PlumbStore
import PlumbTensor

public enum EnsembleMembers {
    public struct Report: Codable, Sendable, Equatable {
        public var member: Int
        public var seed: UInt64
        public var steps: Int
        /// Training seconds of this process (0 for a member reused complete).
        public var seconds: Double
        public var finalEvaluation: [String: Double]
        public var scale: Whitening
    }

    /// Trains members 1..<n (member 0 is `first`, already in the stage), writes `ensemble.json`, and
    /// returns a report per member, member 0 included.
    static func train(_ n: Int, first: LlamaModel, firstTraining: TrainingSummary, loaded: RewardModelStage.Loaded, parameters: RewardModelStage.Parameters,
                      stage: StageContext) throws -> [Report] {
        guard Distributed.world.size == 1 else { throw StageError("rm train --ensemble: train the members in a single process (world size \(Distributed.world.size))") }
        let sequences = scaleSequences(loaded.data)
        var reports: [Report] = [], members: [RewardEnsemble.Member] = []
        func add(_ i: Int, model: LlamaModel, directory: URL, seed: UInt64, steps: Int, seconds: Double, evaluation: [String: Double]) throws {
            let scale = try measureScale(model, sequences: sequences, parameters: parameters, padToken: loaded.eos)
            reports.append(Report(member: i, seed: seed, steps: steps, seconds: seconds, finalEvaluation: evaluation, scale: scale))
            members.append(RewardEnsemble.Member(path: i == 0 ? "." : "members/member-\(i)", seed: seed,
                                                 modelSHA256: try SHA256.hex(ofFile: StageModel.inputFile(directory)), scale: scale))
            stage.log(String(format: "rm train: ensemble member %d (seed %llu): %d steps, scale mean %.4f std %.4f on %d validation responses",
                             i, seed, steps, scale.mean, scale.std, scale.count))
        }
        try add(0, model: first, directory: stage.directory, seed: parameters.seed, steps: firstTraining.steps, seconds: firstTraining.seconds,
                evaluation: firstTraining.finalEvaluation)
        for i in 1..<n {
            var p = parameters
            p.seed = parameters.seed &+ UInt64(i)
            p.ensemble = nil
            let location = StageLocation(runsRoot: stage.directory, run: "members", stage: "member-\(i)")
            let key = "\(stage.writer.manifest.cacheKey)-member-\(i)"
            if let done = try? StageManifest.read(from: location.directory), done.status == .complete, done.cacheKey == key,
               let summary = try done.decodeSummary(TrainingSummary.self) {
                stage.log("rm train: ensemble member \(i) is complete in \(location.directory.path); reusing it")
                let model = try StageModel.load(location.directory, heads: p.likelihoodTerm.heads)
                try add(i, model: model, directory: location.directory, seed: p.seed, steps: summary.steps, seconds: 0, evaluation: summary.finalEvaluation)
                continue
            }
            let writer = try StageWriter.begin(runsRoot: stage.directory, run: "members", stage: "member-\(i)", kind: RewardModelStage.kind.name,
                                               config: p, inputs: loaded.files, seed: p.seed, keepUnfinished: true, key: key, log: stage.log)
            let context = StageContext(writer: writer, location: location, progress: stage.progress, log: stage.log, environment: stage.environment)
            let (model, training) = try writer.finish { () -> (LlamaModel, TrainingSummary) in
                let result = try RewardModelStage.trainMember(loaded, parameters: p, stage: context)
                for (name, value) in result.1.metrics { writer.setMetric(name, value) }
                try writer.setSummary(result.1)
                return result
            }
            try add(i, model: model, directory: location.directory, seed: p.seed, steps: training.steps, seconds: training.seconds,
                    evaluation: training.finalEvaluation)
        }
        try RewardEnsemble(dimension: parameters.dimension.rawValue, members: members).save(to: stage.directory)
        try stage.writer.recordFiles([RewardEnsemble.fileName])
        return reports
    }

    /// The responses each member's scale is measured on: both sides of every validation pair, or of
    /// the first 256 training pairs when there is no validation split.
    static func scaleSequences(_ data: RewardData) -> [RewardSequence] {
        let pairs = data.validation.pairs.isEmpty ? Array(data.train.pairs.prefix(256)) : data.validation.pairs
        return pairs.flatMap { [RewardSequence(tokens: $0.chosen, responseStart: $0.chosenResponseStart),
                                RewardSequence(tokens: $0.rejected, responseStart: $0.rejectedResponseStart)] }
    }

    /// Mean and population standard deviation of `model`'s raw scores of `sequences`.
    static func measureScale(_ model: LlamaModel, sequences: [RewardSequence], parameters: RewardModelStage.Parameters,
                             padToken: Int32) throws -> Whitening {
        let scorer = try RewardScorer(model: model, seqLen: parameters.seqLen, padToken: padToken, likelihood: parameters.likelihoodTerm)
        let scores = try scorer.scores(sequences.map(\.tokens), responseStarts: sequences.map(\.responseStart))
        var sum = 0.0, squares = 0.0
        for s in scores { sum += Double(s); squares += Double(s) * Double(s) }
        return try Whitening(sum: sum, sumOfSquares: squares, count: scores.count)
    }

    /// `member.<i>.<figure>` for every member's final validation figures, steps, seconds and scale.
    static func metrics(_ reports: [Report]) -> [String: Double] {
        var out: [String: Double] = ["ensemble_members": Double(reports.count)]
        for r in reports {
            let prefix = "member.\(r.member)."
            for (name, value) in r.finalEvaluation { out[prefix + name] = value }
            out[prefix + "steps"] = Double(r.steps)
            out[prefix + "seconds"] = r.seconds
            out[prefix + "scale_mean"] = r.scale.mean
            out[prefix + "scale_std"] = r.scale.std
        }
        return out
    }
}
