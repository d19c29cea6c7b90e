// The heads on the trunk's final hidden states h (N, C), each a forward/backward pair. Backward
// functions ADD into acts.dFinalHidden (and the head's weight gradient); `backward(acts)` then
// carries the sum through the trunk, so several heads and losses combine by addition.
//
//   LM loss        L = -(1/K) sum_n log softmax(h_n W_lm^T)[y_n]     (K non-ignored targets)
//   token logprob  lp_n = log softmax(h_n W_lm^T)[y_n]               (DPO, PPO; 0 where ignored)
//     centred      lp_n + H_n, H_n the entropy of row n's distribution (CentredLogProbs)
//   span logprob   log pi(y|x) = sum of lp_n over an example's response tokens (DPO, METHODS 6)
//   reward         r_i = h_{row_i} . w_score                        (read at one row per example)
//   value          v_n = h_n . w_value                               (every row; PPO critic)
import PlumbTensor

extension LlamaModel {
    /// Mean next-token cross-entropy over `targets` (default: the batch's). With `backward`, adds the
    /// gradient of `gradScale * loss` (mean over `divisor` tokens when given) into the LM head and
    /// acts.dFinalHidden. Returns the loss and the number of target tokens. With `backward` the
    /// logits are overwritten by their gradient, so read any logits you need before this call.
    @discardableResult
    public func languageModelLoss(_ acts: LlamaActivations, targets: [Int32]? = nil, backward: Bool = true,
                                  gradScale: Float = 1, divisor: Int? = nil) throws -> (loss: Float, tokens: Int) {
        guard let logits = acts.logits, let batch = acts.layout else {
            throw TensorError("LM head: these activations hold no logits, or forward has not run")
        }
        let ys = targets ?? batch.targets
        if !backward { return try CrossEntropy.meanLoss(logits: logits, targets: ys) }
        // The gradient replaces the logits (FusedLMLoss): run this last on these activations.
        let result = try FusedLMLoss.lossAndGradientInPlace(logits: logits, targets: ys, gradScale: gradScale, divisor: divisor)
        try lmHeadBackward(acts, logits)
        return result
    }

    /// lp_n = log p(targets[n] | row n), 0 where the target is ignored: (N). `centred` adds the
    /// entropy of row n's distribution: lp_n + H_n.
    public func tokenLogProbs(_ acts: LlamaActivations, targets: [Int32]? = nil, centred: Bool = false) throws -> Tensor {
        let (logits, _, ys) = try lmBuffers(acts, targets)
        let out = Tensor(zeros: [acts.rows])
        if centred {
            try CentredLogProbs.forward(logits: logits, targets: ys, into: out)
        } else {
            try CrossEntropy.targetLogProbs(logits: logits, targets: ys, into: out)
        }
        return out
    }

    /// Adds the gradient of sum_n dLogProbs[n] * lp_n (or of the centred values) into the LM head
    /// and acts.dFinalHidden. `logitScale` is the factor `scaleLogits` applied after the forward pass
    /// (the chain rule's last factor).
    public func tokenLogProbsBackward(_ acts: LlamaActivations, dLogProbs: Tensor, targets: [Int32]? = nil,
                                      centred: Bool = false, logitScale: Float = 1) throws {
        let (logits, dLogits, ys) = try lmBuffers(acts, targets)
        dLogits.zero()
        if centred {
            try CentredLogProbs.backward(logits: logits, targets: ys, dOut: dLogProbs, dLogits: dLogits)
        } else {
            try CrossEntropy.targetLogProbsBackward(logits: logits, targets: ys, dLogProbs: dLogProbs, dLogits: dLogits)
        }
        if logitScale != 1 { for i in 0..<dLogits.count { dLogits.pointer[i] *= logitScale } }
        try lmHeadBackward(acts, dLogits)
    }

    /// Multiplies the logits by `factor` in place: with 1/T, the log-probabilities that follow are
    /// those of sampling at temperature T (PPO scores the tokens it sampled at T under the same
    /// distribution). Pass the same factor to `tokenLogProbsBackward`.
    public func scaleLogits(_ acts: LlamaActivations, by factor: Float) throws {
        guard let logits = acts.logits else { throw TensorError("scaleLogits: these activations hold no logits") }
        if factor != 1 { for i in 0..<logits.count { logits.pointer[i] *= factor } }
    }

    /// log pi(y | x) of every example of the batch: its token log-probs summed over its span.
    public func sequenceLogProbs(_ tokenLogProbs: Tensor, layout: BatchLayout) -> [Float] {
        layout.spans.map { span in layout.flatRange(of: span).reduce(Float(0)) { $0 + tokenLogProbs.pointer[$1] } }
    }

    /// The per-token gradient (N) of sum_i dSequence[i] * log pi(y_i | x_i), for tokenLogProbsBackward.
    public func sequenceLogProbsGradient(_ dSequence: [Float], layout: BatchLayout) throws -> Tensor {
        guard dSequence.count == layout.spans.count else {
            throw TensorError("sequenceLogProbsGradient: \(dSequence.count) gradients for \(layout.spans.count) examples")
        }
        let out = Tensor(zeros: [layout.tokenCount])
        for (i, span) in layout.spans.enumerated() {
            for n in layout.flatRange(of: span) { out.pointer[n] = dSequence[i] }
        }
        return out
    }

    /// Final hidden states at flat `rows` (b * T + t): (rows.count, C), a copy.
    public func hiddenStates(_ acts: LlamaActivations, rows: [Int]) throws -> Tensor {
        let c = config.dim, out = Tensor(zeros: [rows.count, c])
        for (j, r) in rows.enumerated() {
            guard r >= 0, r < acts.rows else { throw TensorError("hiddenStates: row \(r) outside 0..<\(acts.rows)") }
            (out.pointer + j * c).update(from: acts.finalHidden.pointer + r * c, count: c)
        }
        return out
    }

    /// The flat row of each example's last token (where a reward model reads its score).
    public func lastTokenRows(_ layout: BatchLayout) -> [Int] {
        layout.spans.map { layout.flatRange(of: $0).upperBound - 1 }
    }

    /// r_i = h_{rows[i]} . w_score.
    public func rewardForward(_ acts: LlamaActivations, rows: [Int]) throws -> [Float] {
        guard let w = try headTensors(acts, LlamaTensorNames.rewardHead, own: weights.rewardHead)?.weight else {
            throw TensorError("rewardForward: neither the model nor the pass's adapter has a reward head")
        }
        let h = try hiddenStates(acts, rows: rows)
        return (0..<rows.count).map { j in (0..<config.dim).reduce(Float(0)) { $0 + h.pointer[j * config.dim + $1] * w.pointer[$1] } }
    }

    /// dh_{rows[i]} += dRewards[i] w_score;  dw_score += sum_i dRewards[i] h_{rows[i]}.
    public func rewardBackward(_ acts: LlamaActivations, rows: [Int], dRewards: [Float]) throws {
        guard let (w, dw) = try headTensors(acts, LlamaTensorNames.rewardHead, own: weights.rewardHead) else {
            throw TensorError("rewardBackward: neither the model nor the pass's adapter has a reward head")
        }
        guard rows.count == dRewards.count else { throw TensorError("rewardBackward: \(dRewards.count) gradients for \(rows.count) rows") }
        let c = config.dim
        for (j, r) in rows.enumerated() {
            guard r >= 0, r < acts.rows else { throw TensorError("rewardBackward: row \(r) outside 0..<\(acts.rows)") }
            let dh = acts.dFinalHidden.pointer + r * c, h = acts.finalHidden.pointer + r * c, g = dRewards[j]
            for i in 0..<c { dh[i] += g * w.pointer[i] }
            if let dw { for i in 0..<c { dw.pointer[i] += g * h[i] } }
        }
    }

    /// v_n = h_n . w_value for every row: (N).
    public func valueForward(_ acts: LlamaActivations) throws -> Tensor {
        guard let w = try headTensors(acts, LlamaTensorNames.valueHead, own: weights.valueHead)?.weight else {
            throw TensorError("valueForward: neither the model nor the pass's adapter has a value head")
        }
        let out = Tensor(zeros: [acts.rows, 1])
        try Linear.forward(x: acts.finalHidden, weight: w, out: out)
        return try out.reshaped([acts.rows])
    }

    /// dh_n += dValues[n] w_value;  dw_value += sum_n dValues[n] h_n.
    public func valueBackward(_ acts: LlamaActivations, dValues: Tensor) throws {
        guard let (w, dw) = try headTensors(acts, LlamaTensorNames.valueHead, own: weights.valueHead) else {
            throw TensorError("valueBackward: neither the model nor the pass's adapter has a value head")
        }
        try Linear.backward(dOut: try dValues.reshaped([acts.rows, 1]), x: acts.finalHidden, weight: w,
                            dx: acts.dFinalHidden, dWeight: dw)
    }

    private func lmBuffers(_ acts: LlamaActivations, _ targets: [Int32]?) throws -> (Tensor, Tensor, [Int32]) {
        guard let logits = acts.logits, let dLogits = acts.dLogits, let batch = acts.layout else {
            throw TensorError("LM head: these activations hold no logits, or forward has not run")
        }
        return (logits, dLogits, targets ?? batch.targets)
    }

    /// dh += dLogits W_lm;  dW_lm += dLogits^T h  (W_lm is the embedding when tied).
    private func lmHeadBackward(_ acts: LlamaActivations, _ dLogits: Tensor) throws {
        let name = config.tieWordEmbeddings ? LlamaTensorNames.embedding : LlamaTensorNames.lmHead
        try Linear.backward(dOut: dLogits, x: acts.finalHidden, weight: weights.lmHead!, dx: acts.dFinalHidden, dWeight: try grad(name))
    }
}
