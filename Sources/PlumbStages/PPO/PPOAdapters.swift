// PPO and the RL stages with LoRA (`lora` key): the five roles on one frozen base in memory.
//
//   base       the `policy` input, frozen, no gradient arena (a LoRA policy stage loads merged: its
//              merged weights are then the base); with `base=bf16` its bf16 rounding (BF16Base.swift),
//              decoded and scored through `MatVec.BF16` and one widened block per pass
//   policy     a fresh adapter (PEFT's init, B = 0) on the base: the initial policy is the base
//   reference  the bare base (no adapter), which is the initial policy: no second copy is held;
//              an explicit `reference` input still loads its own model
//   critic     an adapter carrying the value head: a copy of the `value-init` stage's adapter and
//              its reward head as the value head when that stage holds an adapter on this base
//              (the N+ details: the critic starts from the reward model); else a fresh adapter whose
//              value head starts from the value-init model's reward head
//   reward     each reward-model stage holding an adapter (`rm train --lora`) is read as that
//              adapter and its reward head on the base (EnsembleScorer.SharedBase); its recorded base
//              checksum must be the base's, and a mismatch names both
//
// Checkpoints hold the two trained adapters (policy, critic) with their moments, never the base; the
// stage keeps the policy's adapter (StageModel.saveAdapter), which later stages load merged.
import Foundation
import PlumbModel
import PlumbTensor

struct PPOAdapters {
    let base: LlamaModel
    /// Where the base was loaded from (the adapter's `base_model_name_or_path`).
    let baseLocation: URL
    let policy: LoRAAdapter
    let critic: LoRAAdapter?

    /// `valueInit` nil: no critic (the critic-free estimators).
    init(_ settings: LoRASettings, base: LlamaModel, baseLocation: URL, valueInit: URL?, seed: UInt64) throws {
        do {
            try settings.validate(for: base.config)
        } catch {
            throw StageParameterError("lora", "\(error)")
        }
        base.parameters.releaseGradients()
        let frozen = settings.baseDType == .bf16 ? try LlamaModel.bf16(rounding: base) : base
        self.base = frozen
        self.baseLocation = baseLocation
        policy = try LoRAAdapter(config: frozen.config, settings: settings, seed: seed)
        critic = try valueInit.map { try Self.critic(settings, base: frozen, baseLocation: baseLocation, valueInit: $0, seed: seed &+ 1) }
    }

    /// The critic's adapter with a value head, started from `valueInit` (see the file's comment).
    static func critic(_ settings: LoRASettings, base: LlamaModel, baseLocation: URL, valueInit: URL, seed: UInt64) throws -> LoRAAdapter {
        if StageModel.holdsAdapter(valueInit) {
            let source = try StageModel.loadAdapter(valueInit, onto: base, baseSource: "the policy's base \(baseLocation.path) (ppo with lora: every role shares it)")
            guard source.heads.contains(.reward) else {
                throw StageError("ppo: the value model \(valueInit.path) is an adapter without a reward head to start the value head from")
            }
            let critic = try LoRAAdapter(config: base.config, settings: source.settings, heads: .value, seed: seed)
            for e in source.parameters.entries where e.name != LlamaTensorNames.rewardHead {
                try critic.parameters.value(e.name).copy(from: try source.parameters.value(of: e))
            }
            try critic.parameters.value(LlamaTensorNames.valueHead).copy(from: try source.parameters.value(LlamaTensorNames.rewardHead))
            return critic
        }
        let model = try PPOStage.critic(from: valueInit, shape: base.config)
        let critic = try LoRAAdapter(config: base.config, settings: settings, heads: .value, seed: seed)
        try critic.parameters.value(LlamaTensorNames.valueHead).copy(from: try model.parameters.value(LlamaTensorNames.valueHead))
        return critic
    }
}

extension ResponseTokenPass {
    /// The pass's model as one standalone model: the model itself, or with an adapter the base with
    /// the adapter merged into a copy (what a judge or validator samples from).
    func standaloneModel() throws -> LlamaModel {
        guard let adapter else { return model }
        return try adapter.merged(with: model, gradients: false)
    }
}
