// Softmax and log-softmax over the last dimension (rows), with their backward passes:
//   y = softmax(x):      y_i = exp(x_i - m) / sum_j exp(x_j - m),  m = max_j x_j
//                        dx_i += y_i * (dy_i - sum_j dy_j y_j)
//   y = log_softmax(x):  y_i = x_i - m - log sum_j exp(x_j - m)
//                        dx_i += dy_i - exp(y_i) * sum_j dy_j
// Rows are split across cores when the work is large (a 32000-word vocabulary).
import Foundation

public enum Softmax {
    /// out = softmax(x) row by row; x and out (..., C). May run in place.
    public static func forward(_ x: Tensor, into out: Tensor) throws {
        try x.requireSameShape(out, "Softmax.forward x vs out")
        let (rows, width) = try rowsAndWidth(x, "Softmax.forward")
        let px = x.pointer, po = out.pointer
        EngineThreads.forEachRowChunk(rows: rows, costPerRow: width) { range in
            for r in range { softmaxRow(px + r * width, po + r * width, width) }
        }
    }

    /// dx += y * (dy - <dy, y>) row by row, from the forward output y.
    public static func backward(dOut: Tensor, out y: Tensor, dx: Tensor) throws {
        try dOut.requireSameShape(y, "Softmax.backward dOut vs y"); try dx.requireSameShape(y, "Softmax.backward dx vs y")
        let (rows, width) = try rowsAndWidth(y, "Softmax.backward")
        let pg = dOut.pointer, py = y.pointer, pd = dx.pointer
        EngineThreads.forEachRowChunk(rows: rows, costPerRow: width) { range in
            for r in range {
                let g = pg + r * width, yr = py + r * width, d = pd + r * width
                var inner: Float = 0
                for i in 0..<width { inner += g[i] * yr[i] }
                for i in 0..<width { d[i] += yr[i] * (g[i] - inner) }
            }
        }
    }

    /// out = log_softmax(x) row by row. May run in place.
    public static func logForward(_ x: Tensor, into out: Tensor) throws {
        try x.requireSameShape(out, "Softmax.logForward x vs out")
        let (rows, width) = try rowsAndWidth(x, "Softmax.logForward")
        let px = x.pointer, po = out.pointer
        EngineThreads.forEachRowChunk(rows: rows, costPerRow: width) { range in
            for r in range {
                let xr = px + r * width, yr = po + r * width
                let lse = logSumExp(xr, width)
                for i in 0..<width { yr[i] = xr[i] - lse }
            }
        }
    }

    /// dx += dy - exp(y) * sum(dy) row by row, from the forward output y = log_softmax(x).
    public static func logBackward(dOut: Tensor, out y: Tensor, dx: Tensor) throws {
        try dOut.requireSameShape(y, "Softmax.logBackward dOut vs y"); try dx.requireSameShape(y, "Softmax.logBackward dx vs y")
        let (rows, width) = try rowsAndWidth(y, "Softmax.logBackward")
        let pg = dOut.pointer, py = y.pointer, pd = dx.pointer
        EngineThreads.forEachRowChunk(rows: rows, costPerRow: width) { range in
            for r in range {
                let g = pg + r * width, yr = py + r * width, d = pd + r * width
                var total: Float = 0
                for i in 0..<width { total += g[i] }
                for i in 0..<width { d[i] += g[i] - FastMath.exp(yr[i]) * total }
            }
        }
    }

    /// log sum_i exp(x_i), computed stably around the row maximum.
    @inline(__always)
    public static func logSumExp(_ x: UnsafePointer<Float>, _ n: Int) -> Float { FastMath.logSumExp(x, n) }

    /// y = softmax(x) for one row of n entries (x and y may alias).
    @inline(__always)
    public static func softmaxRow(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int) {
        let m = FastMath.max(x, n)
        let total = FastMath.expShifted(x, y, n, shift: m)
        FastMath.scale(y, n, by: 1 / total)
    }

    static func rowsAndWidth(_ x: Tensor, _ what: String) throws -> (Int, Int) {
        guard x.rank >= 1 else { throw TensorError("\(what): x is a scalar") }
        let width = x.shape[x.rank - 1]
        return (try x.rowCount(width: width, what), width)
    }
}
