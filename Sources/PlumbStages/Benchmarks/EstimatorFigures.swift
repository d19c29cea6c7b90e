// One estimator's figures in `bench rl`'s report, printed flat as `NAME_...` (NAME the estimator's
// name: ppo, rloo, grpo, reinforce++), against PPO's:
//   iteration seconds    the median over repeats of rollout + scoring + update
//   fastest iteration    rollout + the fastest scoring + the fastest update (other processes on a
//                        shared machine only add time)
import PlumbFiles

public struct EstimatorFigures: Equatable, Sendable {
    public var estimator: RLEstimator
    public var scoringSeconds: [Double], updateSeconds: [Double]
    public var iterationSeconds: Double, overPPO: Double
    /// The median update over PPO's median update.
    public var updateOverPPO: Double
    public var fastestIterationSeconds: Double, fastestOverPPO: Double

    static let fields = ["scoring_seconds", "update_seconds", "iteration_seconds", "over_ppo", "update_over_ppo",
                         "fastest_iteration_seconds", "fastest_over_ppo"]

    /// Each estimator's figures from its repeats' (scoring, update) seconds; PPO's must be among them.
    static func all(_ measured: [RLEstimator: [(Double, Double)]], rolloutSeconds: Double) -> [EstimatorFigures] {
        let seconds = measured.mapValues { runs in median(runs.map { rolloutSeconds + $0.0 + $0.1 }) }
        let fastest = measured.mapValues { runs in rolloutSeconds + runs.map(\.0).min()! + runs.map(\.1).min()! }
        let ppoUpdate = median(measured[.ppo]!.map(\.1))
        return RLEstimator.allCases.compactMap { e in
            measured[e].map { runs in
                EstimatorFigures(estimator: e, scoringSeconds: runs.map(\.0), updateSeconds: runs.map(\.1), iterationSeconds: seconds[e]!,
                                 overPPO: seconds[e]! / seconds[.ppo]!, updateOverPPO: median(runs.map(\.1)) / ppoUpdate,
                                 fastestIterationSeconds: fastest[e]!, fastestOverPPO: fastest[e]! / fastest[.ppo]!)
            }
        }
    }

    init(estimator: RLEstimator, scoringSeconds: [Double], updateSeconds: [Double], iterationSeconds: Double, overPPO: Double,
         updateOverPPO: Double, fastestIterationSeconds: Double, fastestOverPPO: Double) {
        (self.estimator, self.scoringSeconds, self.updateSeconds) = (estimator, scoringSeconds, updateSeconds)
        (self.iterationSeconds, self.overPPO, self.updateOverPPO) = (iterationSeconds, overPPO, updateOverPPO)
        (self.fastestIterationSeconds, self.fastestOverPPO) = (fastestIterationSeconds, fastestOverPPO)
    }

    /// The estimator's fields in the object `decoder` reads, or nil when it has none.
    init?(_ estimator: RLEstimator, from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: BenchKey.self)
        func key(_ field: String) -> BenchKey { BenchKey(estimator.rawValue + "_" + field) }
        guard let scoring = try c.decodeIfPresent([Double].self, forKey: key("scoring_seconds")) else { return nil }
        self.init(estimator: estimator, scoringSeconds: scoring, updateSeconds: try c.decode([Double].self, forKey: key("update_seconds")),
                  iterationSeconds: try c.decode(Double.self, forKey: key("iteration_seconds")), overPPO: try c.decode(Double.self, forKey: key("over_ppo")),
                  updateOverPPO: try c.decode(Double.self, forKey: key("update_over_ppo")),
                  fastestIterationSeconds: try c.decode(Double.self, forKey: key("fastest_iteration_seconds")),
                  fastestOverPPO: try c.decode(Double.self, forKey: key("fastest_over_ppo")))
    }

    func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: BenchKey.self)
        func key(_ field: String) -> BenchKey { BenchKey(estimator.rawValue + "_" + field) }
        try c.encode(scoringSeconds, forKey: key("scoring_seconds"))
        try c.encode(updateSeconds, forKey: key("update_seconds"))
        try c.encode(iterationSeconds, forKey: key("iteration_seconds"))
        try c.encode(overPPO, forKey: key("over_ppo"))
        try c.encode(updateOverPPO, forKey: key("update_over_ppo"))
        try c.encode(fastestIterationSeconds, forKey: key("fastest_iteration_seconds"))
        try c.encode(fastestOverPPO, forKey: key("fastest_over_ppo"))
    }
}

/// `bench rl`'s report with each estimator's figures and the rollout's decode figures flat beside it.
public struct WithEstimatorFigures: Codable, Sendable {
    public var report: RLBench.Report
    public var estimators: [EstimatorFigures]
    public var rollout: DecodeFigures?

    init(report: RLBench.Report, estimators: [EstimatorFigures], rollout: DecodeFigures) {
        (self.report, self.estimators, self.rollout) = (report, estimators, rollout)
    }

    public init(from decoder: Decoder) throws {
        report = try RLBench.Report(from: decoder)
        estimators = try RLEstimator.allCases.compactMap { try EstimatorFigures($0, from: decoder) }
        rollout = try DecodeFigures("rollout", from: decoder)
    }

    public func encode(to encoder: Encoder) throws {
        try report.encode(to: encoder)
        for e in estimators { try e.encode(to: encoder) }
        try rollout?.encode(to: encoder)
    }
}
