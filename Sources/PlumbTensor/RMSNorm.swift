// RMSNorm (Zhang & Sennrich 2019; Llama): no mean subtraction, no bias.
//   forward:  r = 1 / sqrt(mean_i x_i^2 + eps),  y_i = x_i * r * g_i           x, y (N, C), g (C), r (N)
//   backward: dx_j += r * (g_j dy_j - x_j * r^2 / C * sum_i g_i dy_i x_i)
//             dg_i += sum_n dy_{n,i} * x_{n,i} * r_n
import Foundation

public enum RMSNorm {
    /// y = x * rstd * weight; saves rstd (N) for backward. y may alias x.
    public static func forward(x: Tensor, weight: Tensor, eps: Float, out y: Tensor, rstd: Tensor) throws {
        let profiled = StepProfile.begin(.norm); defer { StepProfile.end(profiled) }
        let (rows, width) = try check(x: x, weight: weight, other: y, rstd: rstd, "RMSNorm.forward")
        let px = x.pointer, pw = weight.pointer, py = y.pointer, pr = rstd.pointer
        EngineThreads.forEachRowChunk(rows: rows, costPerRow: width) { range in
            for n in range {
                let xr = px + n * width, yr = py + n * width
                var ss: Float = 0
                for i in 0..<width { ss += xr[i] * xr[i] }
                let r = 1 / sqrtf(ss / Float(width) + eps)
                pr[n] = r
                for i in 0..<width { yr[i] = xr[i] * r * pw[i] }
            }
        }
    }

    /// Adds dL/dx into dx and, unless nil (frozen), dL/dg into dWeight.
    public static func backward(dOut dy: Tensor, x: Tensor, weight: Tensor, rstd: Tensor, dx: Tensor, dWeight: Tensor?) throws {
        let profiled = StepProfile.begin(.norm); defer { StepProfile.end(profiled) }
        let (rows, width) = try check(x: x, weight: weight, other: dy, rstd: rstd, "RMSNorm.backward")
        try dx.requireSameShape(x, "RMSNorm.backward dx vs x")
        if let dWeight { try dWeight.requireSameShape(weight, "RMSNorm.backward dWeight vs weight") }
        let px = x.pointer, pw = weight.pointer, pg = dy.pointer, pr = rstd.pointer, pd = dx.pointer
        EngineThreads.forEachRowChunk(rows: rows, costPerRow: width) { range in
            for n in range {
                let xr = px + n * width, gr = pg + n * width, dr = pd + n * width, r = pr[n]
                var inner: Float = 0
                for i in 0..<width { inner += pw[i] * gr[i] * xr[i] }
                let k = r * r * inner / Float(width)
                for i in 0..<width { dr[i] += r * (pw[i] * gr[i] - xr[i] * k) }
            }
        }
        guard let pdw = dWeight?.pointer else { return }
        // The weight gradient sums over rows: split its columns across the cores instead, each
        // column summed over the rows in order (the same bits as one thread).
        EngineThreads.forEachRowChunk(rows: width, costPerRow: rows) { columns in
            for n in 0..<rows {
                let xr = px + n * width, gr = pg + n * width, r = pr[n]
                for i in columns { pdw[i] += gr[i] * xr[i] * r }
            }
        }
    }

    private static func check(x: Tensor, weight: Tensor, other: Tensor, rstd: Tensor, _ what: String) throws -> (Int, Int) {
        guard weight.rank == 1 else { throw TensorError("\(what): weight must be (C), got \(weight.shape)") }
        let rows = try x.rowCount(width: weight.shape[0], "\(what) x (weight \(weight.shape))")
        try other.requireSameShape(x, "\(what) y/dy vs x")
        guard rstd.count == rows else { throw TensorError("\(what): rstd has \(rstd.count) entries for \(rows) rows") }
        return (rows, weight.shape[0])
    }
}
