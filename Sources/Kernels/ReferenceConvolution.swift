/// Plain nested-loop 2-D convolution, the numerical reference for `Convolution`.
///
/// Shapes (see `ConvolutionGeometry`, `isTransposed == false`): input `[N, Cin, H, W]`,
/// weight `[Cout, Cin, kH, kW]`, bias `[Cout]`, output `[N, Cout, outH, outW]`. Zero padding.
/// Every function overwrites its outputs. Slow on purpose: one multiply-add per loop turn,
/// accumulated in Double, so it is easy to read and to trust.
public enum ReferenceConvolution {
  /// `output[n, co, oy, ox] = bias[co] + Σ input[n, ci, oy·s − p + ky, ox·s − p + kx] ·
  /// weight[co, ci, ky, kx]`.
  public static func forward(
    _ g: ConvolutionGeometry, input: UnsafePointer<Float>, weight: UnsafePointer<Float>,
    bias: UnsafePointer<Float>?, output: UnsafeMutablePointer<Float>
  ) {
    precondition(!g.isTransposed, "ReferenceConvolution needs a plain geometry: \(g)")
    let index = ReferenceIndex(g)
    for n in 0..<g.batch {
      for co in 0..<g.outChannels {
        for oy in 0..<g.outHeight {
          for ox in 0..<g.outWidth {
            var sum = Double(bias?[co] ?? 0)
            index.forEachTap(oy: oy, ox: ox) { ky, kx, y, x in
              for ci in 0..<g.inChannels {
                sum +=
                  Double(input[index.input(n, ci, y, x)])
                  * Double(weight[index.plainWeight(co, ci, ky, kx)])
              }
            }
            output[index.output(n, co, oy, ox)] = Float(sum)
          }
        }
      }
    }
  }

  /// Gradient of the loss with respect to the input `[N, Cin, H, W]`, from the output
  /// gradient `[N, Cout, outH, outW]`.
  public static func backwardInput(
    _ g: ConvolutionGeometry, outputGradient: UnsafePointer<Float>,
    weight: UnsafePointer<Float>, inputGradient: UnsafeMutablePointer<Float>
  ) {
    precondition(!g.isTransposed, "ReferenceConvolution needs a plain geometry: \(g)")
    let index = ReferenceIndex(g)
    var sums = [Double](repeating: 0, count: g.inputCount)
    for n in 0..<g.batch {
      for co in 0..<g.outChannels {
        for oy in 0..<g.outHeight {
          for ox in 0..<g.outWidth {
            let gradient = Double(outputGradient[index.output(n, co, oy, ox)])
            index.forEachTap(oy: oy, ox: ox) { ky, kx, y, x in
              for ci in 0..<g.inChannels {
                sums[index.input(n, ci, y, x)] +=
                  gradient * Double(weight[index.plainWeight(co, ci, ky, kx)])
              }
            }
          }
        }
      }
    }
    for offset in sums.indices { inputGradient[offset] = Float(sums[offset]) }
  }

  /// Gradients with respect to the weight `[Cout, Cin, kH, kW]` and, when asked, the bias
  /// `[Cout]`.
  public static func backwardWeight(
    _ g: ConvolutionGeometry, input: UnsafePointer<Float>, outputGradient: UnsafePointer<Float>,
    weightGradient: UnsafeMutablePointer<Float>, biasGradient: UnsafeMutablePointer<Float>?
  ) {
    precondition(!g.isTransposed, "ReferenceConvolution needs a plain geometry: \(g)")
    let index = ReferenceIndex(g)
    var weightSums = [Double](repeating: 0, count: g.weightCount)
    var biasSums = [Double](repeating: 0, count: g.outChannels)
    for n in 0..<g.batch {
      for co in 0..<g.outChannels {
        for oy in 0..<g.outHeight {
          for ox in 0..<g.outWidth {
            let gradient = Double(outputGradient[index.output(n, co, oy, ox)])
            biasSums[co] += gradient
            index.forEachTap(oy: oy, ox: ox) { ky, kx, y, x in
              for ci in 0..<g.inChannels {
                weightSums[index.plainWeight(co, ci, ky, kx)] +=
                  gradient * Double(input[index.input(n, ci, y, x)])
              }
            }
          }
        }
      }
    }
    for offset in weightSums.indices { weightGradient[offset] = Float(weightSums[offset]) }
    if let biasGradient {
      for co in biasSums.indices { biasGradient[co] = Float(biasSums[co]) }
    }
  }
}

/// Plain nested-loop 2-D transposed convolution (PyTorch's `ConvTranspose2d`), the numerical
/// reference for `TransposedConvolution`.
///
/// Shapes (see `ConvolutionGeometry`, `isTransposed == true`): input `[N, Cin, H, W]`, weight
/// `[Cin, Cout, kH, kW]`, bias `[Cout]`, output `[N, Cout, outH, outW]`. Each input element
/// scatters `input[n, ci, iy, ix] · weight[ci, co, ky, kx]` to
/// `output[n, co, iy·s − p + ky, ix·s − p + kx]`. Accumulates in Double.
public enum ReferenceTransposedConvolution {
  /// `output[n, co] = bias[co] + Σ` of the scattered products above.
  public static func forward(
    _ g: ConvolutionGeometry, input: UnsafePointer<Float>, weight: UnsafePointer<Float>,
    bias: UnsafePointer<Float>?, output: UnsafeMutablePointer<Float>
  ) {
    precondition(g.isTransposed, "ReferenceTransposedConvolution needs a transposed geometry: \(g)")
    let index = ReferenceIndex(g)
    var sums = [Double](repeating: 0, count: g.outputCount)
    for n in 0..<g.batch {
      for iy in 0..<g.height {
        for ix in 0..<g.width {
          index.forEachTap(oy: iy, ox: ix) { ky, kx, oy, ox in
            for ci in 0..<g.inChannels {
              let value = Double(input[index.input(n, ci, iy, ix)])
              for co in 0..<g.outChannels {
                sums[index.output(n, co, oy, ox)] +=
                  value * Double(weight[index.transposedWeight(ci, co, ky, kx)])
              }
            }
          }
        }
      }
    }
    for n in 0..<g.batch {
      for co in 0..<g.outChannels {
        for oy in 0..<g.outHeight {
          for ox in 0..<g.outWidth {
            let offset = index.output(n, co, oy, ox)
            output[offset] = Float(sums[offset] + Double(bias?[co] ?? 0))
          }
        }
      }
    }
  }

  /// Gradient with respect to the input `[N, Cin, H, W]`, from the output gradient
  /// `[N, Cout, outH, outW]`.
  public static func backwardInput(
    _ g: ConvolutionGeometry, outputGradient: UnsafePointer<Float>,
    weight: UnsafePointer<Float>, inputGradient: UnsafeMutablePointer<Float>
  ) {
    precondition(g.isTransposed, "ReferenceTransposedConvolution needs a transposed geometry: \(g)")
    let index = ReferenceIndex(g)
    for n in 0..<g.batch {
      for ci in 0..<g.inChannels {
        for iy in 0..<g.height {
          for ix in 0..<g.width {
            var sum: Double = 0
            index.forEachTap(oy: iy, ox: ix) { ky, kx, oy, ox in
              for co in 0..<g.outChannels {
                sum +=
                  Double(outputGradient[index.output(n, co, oy, ox)])
                  * Double(weight[index.transposedWeight(ci, co, ky, kx)])
              }
            }
            inputGradient[index.input(n, ci, iy, ix)] = Float(sum)
          }
        }
      }
    }
  }

  /// Gradients with respect to the weight `[Cin, Cout, kH, kW]` and, when asked, the bias
  /// `[Cout]`.
  public static func backwardWeight(
    _ g: ConvolutionGeometry, input: UnsafePointer<Float>, outputGradient: UnsafePointer<Float>,
    weightGradient: UnsafeMutablePointer<Float>, biasGradient: UnsafeMutablePointer<Float>?
  ) {
    precondition(g.isTransposed, "ReferenceTransposedConvolution needs a transposed geometry: \(g)")
    let index = ReferenceIndex(g)
    var weightSums = [Double](repeating: 0, count: g.weightCount)
    for n in 0..<g.batch {
      for iy in 0..<g.height {
        for ix in 0..<g.width {
          index.forEachTap(oy: iy, ox: ix) { ky, kx, oy, ox in
            for ci in 0..<g.inChannels {
              let value = Double(input[index.input(n, ci, iy, ix)])
              for co in 0..<g.outChannels {
                weightSums[index.transposedWeight(ci, co, ky, kx)] +=
                  value * Double(outputGradient[index.output(n, co, oy, ox)])
              }
            }
          }
        }
      }
    }
    for offset in weightSums.indices { weightGradient[offset] = Float(weightSums[offset]) }
    if let biasGradient {
      for co in 0..<g.outChannels {
        var sum: Double = 0
        for n in 0..<g.batch {
          for oy in 0..<g.outHeight {
            for ox in 0..<g.outWidth { sum += Double(outputGradient[index.output(n, co, oy, ox)]) }
          }
        }
        biasGradient[co] = Float(sum)
      }
    }
  }
}

/// Flat offsets into the NCHW buffers of one geometry, and the kernel taps that land inside.
struct ReferenceIndex {
  let g: ConvolutionGeometry

  init(_ g: ConvolutionGeometry) { self.g = g }

  func input(_ n: Int, _ c: Int, _ y: Int, _ x: Int) -> Int {
    ((n * g.inChannels + c) * g.height + y) * g.width + x
  }

  func output(_ n: Int, _ c: Int, _ y: Int, _ x: Int) -> Int {
    ((n * g.outChannels + c) * g.outHeight + y) * g.outWidth + x
  }

  /// Offset in a `[Cout, Cin, kH, kW]` weight.
  func plainWeight(_ co: Int, _ ci: Int, _ ky: Int, _ kx: Int) -> Int {
    ((co * g.inChannels + ci) * g.kernelHeight + ky) * g.kernelWidth + kx
  }

  /// Offset in a `[Cin, Cout, kH, kW]` weight.
  func transposedWeight(_ ci: Int, _ co: Int, _ ky: Int, _ kx: Int) -> Int {
    ((ci * g.outChannels + co) * g.kernelHeight + ky) * g.kernelWidth + kx
  }

  /// Calls `body(ky, kx, y, x)` for each tap with `y = row·s − p + ky`, `x = column·s − p + kx`
  /// inside the image on the "large" side: the input of a convolution (`row, column` an
  /// output position) or the output of a transposed one (`row, column` an input position).
  func forEachTap(oy row: Int, ox column: Int, _ body: (Int, Int, Int, Int) -> Void) {
    let limitY = g.isTransposed ? g.outHeight : g.height
    let limitX = g.isTransposed ? g.outWidth : g.width
    for ky in 0..<g.kernelHeight {
      let y = row * g.strideY - g.paddingY + ky
      if y < 0 || y >= limitY { continue }
      for kx in 0..<g.kernelWidth {
        let x = column * g.strideX - g.paddingX + kx
        if x < 0 || x >= limitX { continue }
        body(ky, kx, y, x)
      }
    }
  }
}
