// A concrete prompt: a task in one wording. `TaskPrompts.parse` reads any prompt text of the world
// back into its spec, which is how the oracle knows what a prompt asks.

import Foundation

public struct PromptSpec: Hashable, Sendable {
    public let task: PromptTask
    public let template: PromptTemplate
    public let wrapper: PromptWrapper

    public init(task: PromptTask, template: PromptTemplate, wrapper: PromptWrapper = .none) {
        self.task = task
        self.template = template
        self.wrapper = wrapper
    }

    public var kind: TaskKind { task.kind }
    public var text: String { wrapper.apply(to: template.render(task.slotValues)) }

    /// Held out for evaluation: a held-out wording or a held-out entity.
    public var isHeldOut: Bool { template.heldOut || task.usesHeldOutEntity }

    /// A training prompt: a training wording and training entities only.
    public var isTraining: Bool { !isHeldOut && !task.usesValidationEntity }

    /// Tags written with the prompt: `safety` on harmful requests and their look-alikes (Llama 2's
    /// IS_SAFETY), then the finer kind, then `held-out-wording` / `held-out-entity` when the prompt
    /// uses one (evaluation prompts), `validation-entity` on validation prompts that name one, so
    /// figures can be read per kind of generalisation.
    public var tags: [String] {
        var tags: [String]
        switch task {
        case .harmful(let action): tags = ["safety", "harmful", action.category.rawValue]
        case .borderline: tags = ["safety", "borderline"]
        default: tags = ["helpfulness", kind.rawValue]
        }
        if template.heldOut { tags.append("held-out-wording") }
        if task.usesHeldOutEntity { tags.append("held-out-entity") }
        if task.usesValidationEntity { tags.append("validation-entity") }
        return tags
    }
}

public enum TaskPrompts {
    /// The spec of `text` if it is a prompt of this world, in any of its wordings; nil otherwise.
    public static func parse(_ text: String) -> PromptSpec? {
        for (wrapper, core) in PromptWrapper.readings(of: text) {
            let lowered = core.lowercased()
            for kind in TaskKind.allCases {
                for template in kind.templates {
                    guard let values = template.matchLowered(lowered), let task = task(kind, values) else { continue }
                    return PromptSpec(task: task, template: template, wrapper: wrapper)
                }
            }
        }
        return nil
    }

    private static func task(_ kind: TaskKind, _ values: [String: String]) -> PromptTask? {
        let world = World.standard
        switch kind {
        case .add, .subtract:
            guard let a = values["a"].flatMap({ Int($0) }), let b = values["b"].flatMap({ Int($0) }) else { return nil }
            return kind == .add ? .add(a, b) : .subtract(a, b)
        case .river, .crop, .color, .founder:
            guard let attribute = kind.attribute, let town = values["town"].flatMap({ world.town(named: $0) }) else { return nil }
            return .lookup(attribute, town)
        case .letters:
            guard let word = values["word"], world.nouns.contains(word) else { return nil }
            return .letters(word)
        case .sort, .lastItem:
            guard let items = values["list"].flatMap(nounList) else { return nil }
            return kind == .sort ? .sort(items) : .lastItem(items)
        case .harmful:
            return values["action"].flatMap(SafetyCatalog.harmfulAction).map { .harmful($0) }
        case .borderline:
            return values["action"].flatMap(SafetyCatalog.benignAction).map { .borderline($0) }
        }
    }

    /// "cat, dog, owl" -> ["cat", "dog", "owl"] when every item is a distinct noun of the world.
    private static func nounList(_ text: String) -> [String]? {
        let items = text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        guard PromptTask.listLength.contains(items.count), Set(items).count == items.count,
              items.allSatisfy(World.standard.nouns.contains) else { return nil }
        return items
    }
}
