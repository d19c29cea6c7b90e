// Draws prompts: training prompts use only training wordings and entities; evaluation prompts use a
// held-out wording or a held-out entity (arithmetic: a held-out wording), so none can be in training;
// validation prompts name a validation entity in a training wording (arithmetic, which has no
// entities: a training prompt), so choosing among policies by them rewards what evaluation measures,
// answering about things no training prompt names, without reading an evaluation prompt.

public enum PromptSplit: Sendable { case training, validation, evaluation }

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
        let arithmetic = kind == .add || kind == .subtract
        switch split {
        case .training:
            return PromptSpec(task: task(kind, .training, rng: &rng), template: rng.pick(kind.trainingTemplates))
        case .validation:
            return PromptSpec(task: task(kind, arithmetic ? .training : .validation, rng: &rng), template: rng.pick(kind.trainingTemplates))
        case .evaluation:
            // Arithmetic has no entities to hold out; every other kind holds out its wording or its entity.
            if arithmetic || rng.chance(0.5) {
                return PromptSpec(task: task(kind, .trainingOrHeldOut, rng: &rng), template: rng.pick(kind.heldOutTemplates))
            }
            return PromptSpec(task: task(kind, .heldOut, rng: &rng), template: rng.pick(kind.trainingTemplates))
        }
    }

    /// The entities a prompt may name.
    enum Entities {
        /// Training entities only.
        case training
        /// At least one validation entity, the rest training ones.
        case validation
        /// At least one held-out entity, the rest training or held-out ones.
        case heldOut
        /// Training or held-out entities (an evaluation prompt held out by its wording).
        case trainingOrHeldOut

        /// The splits an entity of the prompt may come from.
        var allowed: Set<EntitySplit> {
            switch self {
            case .training: return [.training]
            case .validation: return [.training, .validation]
            case .heldOut, .trainingOrHeldOut: return [.training, .evaluation]
            }
        }

        /// The split the prompt's single entity (or a list's chosen one) comes from, if it is bound to one.
        var required: EntitySplit? {
            switch self {
            case .training: return .training
            case .validation: return .validation
            case .heldOut: return .evaluation
            case .trainingOrHeldOut: return nil
            }
        }
    }

    static func sampleKind(_ mix: TaskSettings.PromptMix, rng: inout TaskRandom) -> TaskKind {
        let u = rng.uniform()
        if u < mix.harmful { return .harmful }
        if u < mix.harmful + mix.borderline { return .borderline }
        return rng.pick(TaskKind.helpfulnessKinds)
    }

    /// A task of `kind` naming `entities`.
    static func task(_ kind: TaskKind, _ entities: Entities, rng: inout TaskRandom) -> PromptTask {
        let world = World.standard
        let r = PromptTask.operandRange
        let single = entities.required.map { [$0] } ?? entities.allowed  // the splits a single entity comes from
        switch kind {
        case .add:
            return .add(rng.int(in: r), rng.int(in: r))
        case .subtract:
            let a = rng.int(in: r)
            return .subtract(a, rng.int(in: r.lowerBound...a))
        case .river, .crop, .color, .founder:
            return .lookup(kind.attribute!, rng.pick(world.towns.filter { single.contains(world.split(ofTown: $0.name)) }))
        case .letters:
            let nouns = world.nouns.filter { single.contains(world.split(ofNoun: $0)) }
            // Held-out nouns in alphabetical order, as the evaluation files have always drawn them.
            return .letters(rng.pick(entities.required == .evaluation ? nouns.sorted() : nouns))
        case .sort, .lastItem:
            let items = nounList(entities, rng: &rng)
            return kind == .sort ? .sort(items) : .lastItem(items)
        case .harmful:
            return .harmful(rng.pick(SafetyCatalog.harmful.filter { single.contains($0.split) }))
        case .borderline:
            return .borderline(rng.pick(SafetyCatalog.benign.filter { single.contains($0.split) }))
        }
    }

    /// Distinct nouns; a list bound to a split other than training holds at least one of its nouns.
    static func nounList(_ entities: Entities, rng: inout TaskRandom) -> [String] {
        let world = World.standard
        let count = rng.int(in: PromptTask.listLength)
        let allowed = world.nouns.filter { entities.allowed.contains(world.split(ofNoun: $0)) }
        guard let required = entities.required, required != .training else { return rng.sample(allowed, count: count) }
        let held = rng.pick(world.nouns(required).sorted())
        let others = rng.sample(allowed.filter { $0 != held }, count: count - 1)
        return rng.shuffled(others + [held])
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
