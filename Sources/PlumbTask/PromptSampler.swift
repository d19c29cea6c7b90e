// Draws prompts: training prompts use only training wordings and entities; evaluation prompts use a
// held-out wording or a held-out entity (arithmetic: a held-out wording), so none can be in training.

public enum PromptSplit: Sendable { case training, evaluation }

public enum PromptSampler {
    /// A prompt of `split`, its family drawn from `mix`.
    public static func sample(_ split: PromptSplit, mix: TaskSettings.PromptMix, rng: inout TaskRandom) -> PromptSpec {
        sample(split, kind: sampleKind(mix, rng: &rng), rng: &rng)
    }

    /// A prompt of `split` and `kind` in a random wrapper.
    public static func sample(_ split: PromptSplit, kind: TaskKind, rng: inout TaskRandom) -> PromptSpec {
        let wrapper = PromptWrapper.sample(rng: &rng)
        let core = sampleCore(kind, split, rng: &rng)
        return PromptSpec(task: core.task, template: core.template, wrapper: wrapper)
    }

    static func sampleCore(_ kind: TaskKind, _ split: PromptSplit, rng: inout TaskRandom) -> PromptSpec {
        switch split {
        case .training:
            return PromptSpec(task: task(kind, heldOutEntity: false, rng: &rng), template: rng.pick(kind.trainingTemplates))
        case .evaluation:
            // Arithmetic has no entities to hold out; every other kind holds out its wording or its entity.
            let byTemplate = kind == .add || kind == .subtract || rng.chance(0.5)
            if byTemplate {
                return PromptSpec(task: task(kind, heldOutEntity: nil, rng: &rng), template: rng.pick(kind.heldOutTemplates))
            }
            return PromptSpec(task: task(kind, heldOutEntity: true, rng: &rng), template: rng.pick(kind.trainingTemplates))
        }
    }

    static func sampleKind(_ mix: TaskSettings.PromptMix, rng: inout TaskRandom) -> TaskKind {
        let u = rng.uniform()
        if u < mix.harmful { return .harmful }
        if u < mix.harmful + mix.borderline { return .borderline }
        return rng.pick(TaskKind.helpfulnessKinds)
    }

    /// A task of `kind`; `heldOutEntity` true: uses a held-out entity, false: none, nil: any.
    static func task(_ kind: TaskKind, heldOutEntity: Bool?, rng: inout TaskRandom) -> PromptTask {
        let world = World.standard
        let r = PromptTask.operandRange
        switch kind {
        case .add:
            return .add(rng.int(in: r), rng.int(in: r))
        case .subtract:
            let a = rng.int(in: r)
            return .subtract(a, rng.int(in: r.lowerBound...a))
        case .river, .crop, .color, .founder:
            let towns = heldOutEntity.map { $0 ? world.heldOutTowns : world.trainingTowns } ?? world.towns
            return .lookup(kind.attribute!, rng.pick(towns))
        case .letters:
            let nouns = heldOutEntity.map { $0 ? Array(world.heldOutNouns).sorted() : world.trainingNouns } ?? world.nouns
            return .letters(rng.pick(nouns))
        case .sort, .lastItem:
            let items = nounList(heldOutEntity: heldOutEntity, rng: &rng)
            return kind == .sort ? .sort(items) : .lastItem(items)
        case .harmful:
            let actions = SafetyCatalog.harmful.filter { heldOutEntity == nil || $0.heldOut == heldOutEntity }
            return .harmful(rng.pick(actions))
        case .borderline:
            let actions = SafetyCatalog.benign.filter { heldOutEntity == nil || $0.heldOut == heldOutEntity }
            return .borderline(rng.pick(actions))
        }
    }

    /// Distinct nouns; with `heldOutEntity` true the list contains at least one held-out noun.
    static func nounList(heldOutEntity: Bool?, rng: inout TaskRandom) -> [String] {
        let world = World.standard
        let count = rng.int(in: PromptTask.listLength)
        switch heldOutEntity {
        case false?:
            return rng.sample(world.trainingNouns, count: count)
        case true?:
            let held = rng.pick(Array(world.heldOutNouns).sorted())
            let others = rng.sample(world.nouns.filter { $0 != held }, count: count - 1)
            return rng.shuffled(others + [held])
        case nil:
            return rng.sample(world.nouns, count: count)
        }
    }
}

/// Draws prompts that this file has not drawn yet (importers drop repeated records as duplicates,
/// which would skew a file's rates). The kind is drawn once from the mix and kept while retrying, so
/// the mix is not skewed towards kinds with more distinct prompts. After `maxTries` repeats in a row
/// the kind's space is taken as exhausted: `next` returns nil, and the caller stops short.
struct DistinctPrompts {
    let split: PromptSplit
    let mix: TaskSettings.PromptMix
    var seen = Set<String>()
    static let maxTries = 200

    init(_ split: PromptSplit, mix: TaskSettings.PromptMix) {
        self.split = split
        self.mix = mix
    }

    mutating func next(rng: inout TaskRandom) -> PromptSpec? {
        let kind = PromptSampler.sampleKind(mix, rng: &rng)
        for _ in 0..<DistinctPrompts.maxTries {
            let spec = PromptSampler.sample(split, kind: kind, rng: &rng)
            if seen.insert(spec.text.lowercased()).inserted { return spec }
        }
        return nil
    }
}
