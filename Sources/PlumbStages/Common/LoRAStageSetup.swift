// What a training stage does with its `lora` setting: freeze the loaded model as the base, make the
// adapter (PEFT's init from the stage's seed; a head it carries starts as the model's) and use the
// adapter's learning rate when it has one. With `base=bf16` the frozen base is the loaded model's
// bf16 rounding (BF16Base.swift), which the stage then trains over (`model`) instead of the loaded one.
// Without the setting everything passes through unchanged.
import Foundation
import PlumbModel

struct LoRAStageSetup {
    /// The adapter to train, or nil for full-parameter training.
    let adapter: LoRAAdapter?
    /// The model the stage trains: the loaded one, or with `base=bf16` its bf16 rounding.
    let model: LlamaModel
    /// Where the base was loaded from (recorded in the adapter's config).
    let base: URL?
    /// The loop settings, with the adapter's learning rate.
    let loop: LoopSettings

    /// `base`: where `model` was loaded from (nil for a fresh model, which LoRA refuses). `heads`: the
    /// heads the adapter carries, started from the model's (a reward model's freshly drawn head).
    init(_ settings: LoRASettings?, model: LlamaModel, base location: URL?, seed: UInt64, loop: LoopSettings,
         heads: LlamaHeads = []) throws {
        guard let settings else {
            adapter = nil; base = nil; self.loop = loop; self.model = model
            return
        }
        guard let location else {
            throw StageParameterError("lora", "a LoRA adapter trains over a base model: give `init-from` (a stage or Hugging Face directory), not a fresh model")
        }
        do {
            try settings.validate(for: model.config)
        } catch {
            throw StageParameterError("lora", "\(error)")
        }
        model.parameters.releaseGradients()   // the base passes gradient on but keeps none
        self.model = settings.baseDType == .bf16 ? try LlamaModel.bf16(rounding: model) : model
        let adapter = try LoRAAdapter(config: model.config, settings: settings, heads: heads, seed: seed)
        for e in adapter.parameters.entries where e.shape.first == 1 && model.parameters.contains(e.name) {
            try adapter.parameters.value(of: e).copy(from: try model.parameters.value(e.name))   // a head
        }
        self.adapter = adapter
        base = location
        var loop = loop
        if let lr = settings.learningRate { loop.optimization.learningRate = lr }
        self.loop = loop
    }
}
