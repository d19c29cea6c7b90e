// A month of iterative runs on the built-in task (Llama 2's RLHF-V1..V5, TigerBot's monthly
// releases): new prompt sets from the same world and settings as a generated task, for that month's
// rejection sampling, PPO and on-policy annotation (prompts whose policy samples the simulated
// annotators compare). Month N draws from its own child stream of the seed (`month-N`), so months
// differ and a month's prompts depend only on (settings, seed, N, counts). Ids carry the month
// (`m2-rs-000012`), so they never meet the generated task's (`rs-`, `ppo-`, `eval-`, ...) or another
// month's. Prompts are training prompts (no held-out wording or entity), distinct within each file
// as the generator's prompt sets are; texts may recur across months where the prompt space is small.

public struct TaskMonth: Sendable {
    /// Prompts per file.
    public struct Counts: Codable, Equatable, Sendable {
        public var rejectionSamplingPrompts: Int
        public var ppoPrompts: Int
        public var annotatePrompts: Int
        public var validationPrompts: Int

        public init(rejectionSamplingPrompts: Int, ppoPrompts: Int, annotatePrompts: Int, validationPrompts: Int = 0) {
            self.rejectionSamplingPrompts = rejectionSamplingPrompts
            self.ppoPrompts = ppoPrompts
            self.annotatePrompts = annotatePrompts
            self.validationPrompts = validationPrompts
        }

        /// The task's own sizes: its RS and PPO prompt counts, and its annotated prompts.
        public init(_ sizes: TaskSettings.Sizes) {
            self.init(rejectionSamplingPrompts: sizes.rejectionSamplingPrompts, ppoPrompts: sizes.ppoPrompts,
                      annotatePrompts: sizes.annotatedPrompts, validationPrompts: sizes.validationPromptCount)
        }
    }

    public let settings: TaskSettings
    public let seed: UInt64
    /// 2 or more: month 1 is the generated task itself.
    public let month: Int
    public let counts: Counts

    public init(settings: TaskSettings, seed: UInt64, month: Int, counts: Counts) {
        self.settings = settings
        self.seed = seed
        self.month = month
        self.counts = counts
    }

    /// "m2": the prefix of every id of the month.
    public var idPrefix: String { "m\(month)" }

    /// The month's three prompt sets, each from its own stream of the month's stream.
    public func generate() -> MonthPrompts {
        let root = TaskRandom(seed: seed).stream("month-\(month)")
        let generator = TaskGenerator(settings: settings, seed: seed)
        var rng = root.stream("rs-prompts")
        let rs = generator.promptSet("\(idPrefix)-rs", count: counts.rejectionSamplingPrompts, rng: &rng)
        rng = root.stream("ppo-prompts")
        let ppo = generator.promptSet("\(idPrefix)-ppo", count: counts.ppoPrompts, rng: &rng)
        rng = root.stream("annotate-prompts")
        let annotate = generator.promptSet("\(idPrefix)-ann", count: counts.annotatePrompts, rng: &rng)
        rng = root.stream("validation-prompts")
        let validation = generator.validationPromptSet("\(idPrefix)-val", count: counts.validationPrompts, rng: &rng)
        return MonthPrompts(rejectionSampling: rs, ppo: ppo, annotate: annotate, validation: validation)
    }
}

/// A month's prompt sets (message-list records with one user turn, as `prompts-rs.jsonl`).
public struct MonthPrompts: Equatable, Sendable {
    public var rejectionSampling: [MessageRecord]
    public var ppo: [MessageRecord]
    public var annotate: [MessageRecord]
    /// Prompts no stage trains on, for choosing among the month's policies.
    public var validation: [MessageRecord] = []

    /// Every prompt of the month, file by file.
    public var all: [MessageRecord] { rejectionSampling + ppo + annotate + validation }
}
