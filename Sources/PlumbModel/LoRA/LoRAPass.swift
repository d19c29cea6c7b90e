// The adapter's share of one projection, forward and backward, and what a forward pass keeps for
// it. With s = alpha / r, d the dropout mask scaled by 1 / (1 - p) (all ones without dropout),
// x (N, in), A (r, in), B (out, r), dy = dL/dy (N, out):
//   forward:   u   = (x * d) A^T                 (N, r)
//              y  += s u B^T                     (N, out)   added to the base's W x
//   backward:  dB += s dy^T u                    (out, r)
//              du  = s dy B                      (N, r)
//              dA += du^T (x * d)                (r, in)
//              dx += (du A) * d                  (N, in)
// Every product is one sgemm (BLAS); the base's weight gradient is never formed.
import PlumbTensor

/// What one forward pass with an adapter keeps: u = (x * d) A^T per module and, with dropout,
/// the masked input x * d and the mask d, plus backward scratch. Allocated once per batch shape.
final class LoRAActivations {
    let rows: Int                    // N = B * T
    let rank: Int
    let targets: [LoRATarget]
    let dropout: Bool
    /// u per (layer, target).
    let projected: [[LoRATarget: Tensor]]        // (N, r)
    /// x * d and d per (layer, target); empty without dropout.
    let droppedInput: [[LoRATarget: Tensor]]     // (N, in)
    let masks: [[LoRATarget: Tensor]]            // (N, in)
    let dProjected: Tensor                       // (N, r)   backward scratch
    let dInput: Tensor?                          // (N, max in)  backward scratch with dropout
    /// The adapter of the forward pass these buffers hold (backward adds into its gradients).
    var adapter: LoRAAdapter?
    /// Whether that pass drew dropout masks (dropout > 0 and the adapter in training).
    var masked = false

    init(config c: LlamaConfig, rows n: Int, settings: LoRASettings) {
        rows = n; rank = settings.rank; targets = settings.targets; dropout = settings.dropout > 0
        let width = { (t: LoRATarget) in t.layerTensor.shape(c)[1] }
        projected = (0..<c.nLayers).map { _ in Dictionary(uniqueKeysWithValues: settings.targets.map { ($0, Tensor(zeros: [n, settings.rank])) }) }
        let withDropout = settings.dropout > 0
        droppedInput = withDropout ? (0..<c.nLayers).map { _ in Dictionary(uniqueKeysWithValues: settings.targets.map { ($0, Tensor(zeros: [n, width($0)])) }) } : []
        masks = withDropout ? (0..<c.nLayers).map { _ in Dictionary(uniqueKeysWithValues: settings.targets.map { ($0, Tensor(zeros: [n, width($0)])) }) } : []
        dProjected = Tensor(zeros: [n, settings.rank])
        dInput = withDropout ? Tensor(zeros: [n, settings.targets.map(width).max()!]) : nil
    }

    func fits(rows n: Int, settings: LoRASettings) -> Bool {
        rows == n && rank == settings.rank && targets == settings.targets && dropout == (settings.dropout > 0)
    }
}

extension LoRAActivations {
    /// y += s B A (x * d) for the adapted `target` of block `layer`; nothing when it is not adapted.
    /// x (N, in), y (N, out) flattened.
    func forward(_ target: LoRATarget, layer: Int, x: Tensor, y: Tensor) throws {
        guard let adapter, let m = adapter.module(layer: layer, target: target) else { return }
        let n = rows, r = rank, inF = m.a.shape[1], outF = m.b.shape[0]
        try x.requireShape([n, inF], "LoRA \(target.rawValue) input"); try y.requireShape([n, outF], "LoRA \(target.rawValue) output")
        var input = x
        if masked {
            input = droppedInput[layer][target]!
            let mask = masks[layer][target]!, p = adapter.settings.dropout, keep = 1 / (1 - p)
            for i in 0..<n * inF {
                let d: Float = adapter.dropoutRNG.uniform() < p ? 0 : keep
                mask.pointer[i] = d
                input.pointer[i] = x.pointer[i] * d
            }
        }
        let u = projected[layer][target]!
        // u = input A^T: (N, r) = (N, in) (in, r)
        Matmul.sgemm(transposeA: false, transposeB: true, m: n, n: r, k: inF, alpha: 1, a: input.pointer, lda: inF,
                     b: m.a.pointer, ldb: inF, beta: 0, c: u.pointer, ldc: r)
        // y += s u B^T: (N, out) = (N, r) (r, out)
        Matmul.sgemm(transposeA: false, transposeB: true, m: n, n: outF, k: r, alpha: adapter.settings.scale, a: u.pointer, lda: r,
                     b: m.b.pointer, ldb: r, beta: 1, c: y.pointer, ldc: outF)
    }

    /// Adds dA, dB (when the adapter is trainable) and the adapter path's dx for `target` of block
    /// `layer`, from dy (N, out); x (N, in) is the projection's input of the forward pass.
    func backward(_ target: LoRATarget, layer: Int, dOut dy: Tensor, x: Tensor, dx: Tensor) throws {
        guard let adapter, let m = adapter.module(layer: layer, target: target) else { return }
        let n = rows, r = rank, inF = m.a.shape[1], outF = m.b.shape[0], s = adapter.settings.scale
        try dy.requireShape([n, outF], "LoRA \(target.rawValue) dOut"); try dx.requireShape([n, inF], "LoRA \(target.rawValue) dx")
        let u = projected[layer][target]!, du = dProjected
        let input = masked ? droppedInput[layer][target]! : x
        // dB += s dy^T u: (out, r) = (out, N) (N, r)
        if let dB = try adapter.parameters.trainableGradient(m.bName) {
            Matmul.sgemm(transposeA: true, transposeB: false, m: outF, n: r, k: n, alpha: s, a: dy.pointer, lda: outF,
                         b: u.pointer, ldb: r, beta: 1, c: dB.pointer, ldc: r)
        }
        // du = s dy B: (N, r) = (N, out) (out, r)
        Matmul.sgemm(transposeA: false, transposeB: false, m: n, n: r, k: outF, alpha: s, a: dy.pointer, lda: outF,
                     b: m.b.pointer, ldb: r, beta: 0, c: du.pointer, ldc: r)
        // dA += du^T (x * d): (r, in) = (r, N) (N, in)
        if let dA = try adapter.parameters.trainableGradient(m.aName) {
            Matmul.sgemm(transposeA: true, transposeB: false, m: r, n: inF, k: n, alpha: 1, a: du.pointer, lda: r,
                         b: input.pointer, ldb: inF, beta: 1, c: dA.pointer, ldc: inF)
        }
        // dx += (du A) * d: (N, in) = (N, r) (r, in)
        guard masked, let scratch = dInput else {
            Matmul.sgemm(transposeA: false, transposeB: false, m: n, n: inF, k: r, alpha: 1, a: du.pointer, lda: r,
                         b: m.a.pointer, ldb: inF, beta: 1, c: dx.pointer, ldc: inF)
            return
        }
        Matmul.sgemm(transposeA: false, transposeB: false, m: n, n: inF, k: r, alpha: 1, a: du.pointer, lda: r,
                     b: m.a.pointer, ldb: inF, beta: 0, c: scratch.pointer, ldc: inF)
        let mask = masks[layer][target]!
        for i in 0..<n * inF { dx.pointer[i] += scratch.pointer[i] * mask.pointer[i] }
    }
}

extension LlamaActivations {
    /// The adapter buffers for a forward pass with `adapter` (allocated on first use per batch shape
    /// and settings), or nil for a bare pass (no adapter, or one switched off).
    func prepareLoRA(_ adapter: LoRAAdapter?, config: LlamaConfig) throws -> LoRAActivations? {
        guard let adapter, adapter.enabled else {
            lora?.adapter = nil
            return nil
        }
        try adapter.requireFits(config)
        if lora == nil || !lora!.fits(rows: rows, settings: adapter.settings) {
            lora = LoRAActivations(config: config, rows: rows, settings: adapter.settings)
        }
        lora!.adapter = adapter
        lora!.masked = adapter.settings.dropout > 0 && adapter.training
        return lora
    }
}

extension LlamaModel {
    /// The head `name` a pass on `acts` reads and the gradient it adds into: the adapter's when the
    /// pass ran with an adapter carrying that head, else the model's own (`own`, nil when absent).
    func headTensors(_ acts: LlamaActivations, _ name: String, own: Tensor?) throws -> (weight: Tensor, gradient: Tensor?)? {
        if let adapter = acts.lora?.adapter, adapter.parameters.contains(name) {
            return (try adapter.parameters.value(name), try adapter.parameters.trainableGradient(name))
        }
        guard let own else { return nil }
        return (own, try grad(name))
    }
}
