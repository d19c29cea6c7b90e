// The parameters of a stage that embeds the optimisation group, read (and set, in tests and callers
// that build parameters in code) by the names the training code uses: `seqLen`, `rows`, `epochs`,
// `seed`, `loop`. They are views of the group, not parameters of their own (no key, no JSON).
public protocol TrainingParameters: StageParameters {
    var optimisation: OptimisationGroup { get set }
}

extension TrainingParameters {
    public var seqLen: Int {
        get { optimisation.seqLen }
        set { optimisation.seqLen = newValue }
    }
    public var rows: Int {
        get { optimisation.rows }
        set { optimisation.rows = newValue }
    }
    public var epochs: Int {
        get { optimisation.epochs }
        set { optimisation.epochs = newValue }
    }
    public var seed: UInt64 {
        get { optimisation.seed }
        set { optimisation.seed = newValue }
    }
    public var loop: LoopSettings {
        get { optimisation.loop }
        set { optimisation.loop = newValue }
    }
    public var manifestSeed: UInt64? { optimisation.seed }
}
