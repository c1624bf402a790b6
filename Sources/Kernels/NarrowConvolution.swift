/// Direct stride-1 convolution for layers with very few output channels (a generator's last
/// 7×7 64→3 layer), forward and weight gradient, vectorised along output rows.
///
/// im2col is a poor fit there: it copies every input value `kH·kW` times (49 for 7×7) and then
/// uses each copy only `Cout` times (3). This path instead keeps `Cout` accumulators of eight
/// output columns in registers and streams each input row once per kernel tap. The input
/// gradient of such a layer is a convolution with many outputs (see
/// `ConvolutionCore.backwardInputByFlippedKernel`), which im2col handles well.
///
/// Handles `isTransposed == false`, stride 1, padding 0 (the generator pads by reflection
/// before), `Cout ≤ 4`, `outW ≥ 8`.
enum NarrowConvolution {
  typealias Lanes = SIMD8<Float>
  static let maximumOutputChannels = 4

  static func supports(_ g: ConvolutionGeometry) -> Bool {
    !g.isTransposed && g.strideY == 1 && g.strideX == 1 && g.paddingY == 0 && g.paddingX == 0
      && g.outChannels <= maximumOutputChannels && g.inChannels >= 8 && g.outWidth >= 8
  }

  /// `output [N, Cout, outH, outW]` (no bias) from input `[N, Cin, H, W]` and weight
  /// `[Cout, Cin, kH, kW]`.
  static func forward(
    _ g: ConvolutionGeometry, input: UnsafePointer<Float>, weight: UnsafePointer<Float>,
    output: UnsafeMutablePointer<Float>
  ) {
    let taps = g.inChannels * g.kernelHeight * g.kernelWidth
    // Weights broadcast to whole vectors, `[Cin, kH, kW, 4]`, zero past Cout.
    withUnsafeTemporaryAllocation(of: Lanes.self, capacity: taps * maximumOutputChannels) {
      table in
      for tap in 0..<taps {
        for co in 0..<maximumOutputChannels {
          let value = co < g.outChannels ? weight[co * taps + tap] : 0
          (table.baseAddress! + tap * maximumOutputChannels + co).initialize(
            to: Lanes(repeating: value))
        }
      }
      let weights = UnsafePointer(table.baseAddress!)
      ComputeThreads.parallelFor(g.batch * g.outHeight, minimumPerWorker: 2) { row in
        let n = row / g.outHeight
        let oy = row % g.outHeight
        switch g.outChannels {
        case 1: forwardRow(g, n: n, oy: oy, OneChannel.self, input, weights, output)
        case 2: forwardRow(g, n: n, oy: oy, TwoChannels.self, input, weights, output)
        case 3: forwardRow(g, n: n, oy: oy, ThreeChannels.self, input, weights, output)
        default: forwardRow(g, n: n, oy: oy, FourChannels.self, input, weights, output)
        }
      }
    }
  }

  /// One output row of every output channel; specialised per channel count, so the unused
  /// accumulators fold away.
  static func forwardRow<Count: ChannelCount>(
    _ g: ConvolutionGeometry, n: Int, oy: Int, _: Count.Type, _ input: UnsafePointer<Float>,
    _ weights: UnsafePointer<Lanes>, _ output: UnsafeMutablePointer<Float>
  ) {
    let channels = Count.value
    let plane = g.height * g.width
    let image = input + n * g.inChannels * plane + oy * g.width
    let results = output + (n * g.outChannels * g.outHeight + oy) * g.outWidth
    let outPlane = g.outHeight * g.outWidth
    let fullBlocks = g.outWidth / 8 * 8
    for x in stride(from: 0, to: fullBlocks, by: 8) {
      var a0 = Lanes(repeating: 0)
      var a1 = Lanes(repeating: 0)
      var a2 = Lanes(repeating: 0)
      var a3 = Lanes(repeating: 0)
      var tapWeights = weights
      for ci in 0..<g.inChannels {
        var row = image + ci * plane + x
        for _ in 0..<g.kernelHeight {
          for kx in 0..<g.kernelWidth {
            let values = UnsafeRawPointer(row + kx).loadUnaligned(as: Lanes.self)
            a0 += tapWeights[0] * values
            if channels > 1 { a1 += tapWeights[1] * values }
            if channels > 2 { a2 += tapWeights[2] * values }
            if channels > 3 { a3 += tapWeights[3] * values }
            tapWeights += maximumOutputChannels
          }
          row += g.width
        }
      }
      UnsafeMutableRawPointer(results + x).storeBytes(of: a0, as: Lanes.self)
      if channels > 1 {
        UnsafeMutableRawPointer(results + outPlane + x).storeBytes(of: a1, as: Lanes.self)
      }
      if channels > 2 {
        UnsafeMutableRawPointer(results + 2 * outPlane + x).storeBytes(of: a2, as: Lanes.self)
      }
      if channels > 3 {
        UnsafeMutableRawPointer(results + 3 * outPlane + x).storeBytes(of: a3, as: Lanes.self)
      }
    }
    // The last columns, one at a time.
    for x in fullBlocks..<g.outWidth {
      for co in 0..<channels {
        var sum: Float = 0
        var tap = 0
        for ci in 0..<g.inChannels {
          for ky in 0..<g.kernelHeight {
            let row = image + ci * plane + ky * g.width + x
            for kx in 0..<g.kernelWidth {
              sum += weights[tap * maximumOutputChannels + co][0] * row[kx]
              tap += 1
            }
          }
        }
        results[co * outPlane + x] = sum
      }
    }
  }

  /// Weight gradient `[Cout, Cin, kH, kW]` (no bias) from input `[N, Cin, H, W]` and output
  /// gradient `[N, Cout, outH, outW]`, summed over the batch.
  static func backwardWeight(
    _ g: ConvolutionGeometry, input: UnsafePointer<Float>, outputGradient: UnsafePointer<Float>,
    weightGradient: UnsafeMutablePointer<Float>
  ) {
    let kernelArea = g.kernelHeight * g.kernelWidth
    ComputeThreads.parallelFor(g.inChannels) { ci in
      for ky in 0..<g.kernelHeight {
        for kx in 0..<g.kernelWidth {
          let sums: SIMD4<Float>
          switch g.outChannels {
          case 1:
            sums = tapGradient(g, ci: ci, ky: ky, kx: kx, OneChannel.self, input, outputGradient)
          case 2:
            sums = tapGradient(g, ci: ci, ky: ky, kx: kx, TwoChannels.self, input, outputGradient)
          case 3:
            sums = tapGradient(g, ci: ci, ky: ky, kx: kx, ThreeChannels.self, input, outputGradient)
          default:
            sums = tapGradient(g, ci: ci, ky: ky, kx: kx, FourChannels.self, input, outputGradient)
          }
          for co in 0..<g.outChannels {
            weightGradient[(co * g.inChannels + ci) * kernelArea + ky * g.kernelWidth + kx] =
              sums[co]
          }
        }
      }
    }
  }

  /// `Σ_{n, oy, ox} outputGradient[n, co, oy, ox] · input[n, ci, oy + ky, ox + kx]` for every
  /// output channel `co < channels`.
  static func tapGradient<Count: ChannelCount>(
    _ g: ConvolutionGeometry, ci: Int, ky: Int, kx: Int, _: Count.Type,
    _ input: UnsafePointer<Float>, _ outputGradient: UnsafePointer<Float>
  ) -> SIMD4<Float> {
    let channels = Count.value
    let plane = g.height * g.width
    let outPlane = g.outHeight * g.outWidth
    let fullBlocks = g.outWidth / 8 * 8
    var a0 = Lanes(repeating: 0)
    var a1 = Lanes(repeating: 0)
    var a2 = Lanes(repeating: 0)
    var a3 = Lanes(repeating: 0)
    var tail = SIMD4<Float>(repeating: 0)
    for n in 0..<g.batch {
      let image = input + (n * g.inChannels + ci) * plane + ky * g.width + kx
      let gradients = outputGradient + n * g.outChannels * outPlane
      for oy in 0..<g.outHeight {
        let row = image + oy * g.width
        let gradientRow = gradients + oy * g.outWidth
        for x in stride(from: 0, to: fullBlocks, by: 8) {
          let values = UnsafeRawPointer(row + x).loadUnaligned(as: Lanes.self)
          a0 += values * UnsafeRawPointer(gradientRow + x).loadUnaligned(as: Lanes.self)
          if channels > 1 {
            a1 +=
              values * UnsafeRawPointer(gradientRow + outPlane + x).loadUnaligned(as: Lanes.self)
          }
          if channels > 2 {
            a2 +=
              values
              * UnsafeRawPointer(gradientRow + 2 * outPlane + x).loadUnaligned(as: Lanes.self)
          }
          if channels > 3 {
            a3 +=
              values
              * UnsafeRawPointer(gradientRow + 3 * outPlane + x).loadUnaligned(as: Lanes.self)
          }
        }
        for x in fullBlocks..<g.outWidth {
          for co in 0..<channels { tail[co] += row[x] * gradientRow[co * outPlane + x] }
        }
      }
    }
    return tail + SIMD4(a0.sum(), a1.sum(), a2.sum(), a3.sum())
  }
}

/// A channel count known at compile time, so that each specialisation of the narrow kernels
/// keeps exactly that many accumulators.
protocol ChannelCount { static var value: Int { get } }
enum OneChannel: ChannelCount { static var value: Int { 1 } }
enum TwoChannels: ChannelCount { static var value: Int { 2 } }
enum ThreeChannels: ChannelCount { static var value: Int { 3 } }
enum FourChannels: ChannelCount { static var value: Int { 4 } }
