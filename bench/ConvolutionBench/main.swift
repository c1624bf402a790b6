// Times Transmute's convolution kernels for bench/convolution.py, one request per stdin line:
//   <transposed 0|1> <N> <Cin> <Cout> <H> <W> <k> <stride> <padding> <outputPadding>
//   <forward|input|weight> <repeats>
// and answers with one line of `repeats` wall times in seconds. Buffers are allocated, filled
// and warmed up once per geometry and pass, then reused, so only the kernel itself is timed.
// `--threads N` sets `ComputeThreads` (default: all cores).
import Dispatch
import Foundation
import Kernels

/// Input, weight, bias, output and gradient buffers of one geometry.
final class Buffers {
  let input: UnsafeMutablePointer<Float>
  let weight: UnsafeMutablePointer<Float>
  let bias: UnsafeMutablePointer<Float>
  let output: UnsafeMutablePointer<Float>
  let inputGradient: UnsafeMutablePointer<Float>
  let weightGradient: UnsafeMutablePointer<Float>
  let biasGradient: UnsafeMutablePointer<Float>

  init(_ g: ConvolutionGeometry) {
    func filled(_ count: Int, _ seed: UInt32) -> UnsafeMutablePointer<Float> {
      let buffer = UnsafeMutablePointer<Float>.allocate(capacity: count)
      var state = seed
      for index in 0..<count {
        state = state &* 1_664_525 &+ 1_013_904_223
        buffer[index] = Float(state >> 8) / Float(1 << 24) - 0.5
      }
      return buffer
    }
    input = filled(g.inputCount, 1)
    weight = filled(g.weightCount, 2)
    bias = filled(g.outChannels, 3)
    output = filled(g.outputCount, 4)
    inputGradient = filled(g.inputCount, 5)
    weightGradient = filled(g.weightCount, 6)
    biasGradient = filled(g.outChannels, 7)
  }
}

/// Runs one pass once.
func run(_ pass: String, _ g: ConvolutionGeometry, _ b: Buffers) {
  switch (pass, g.isTransposed) {
  case ("forward", false):
    Convolution.forward(g, input: b.input, weight: b.weight, bias: b.bias, output: b.output)
  case ("input", false):
    Convolution.backwardInput(
      g, outputGradient: b.output, weight: b.weight, inputGradient: b.inputGradient)
  case ("weight", false):
    Convolution.backwardWeight(
      g, input: b.input, outputGradient: b.output, weightGradient: b.weightGradient,
      biasGradient: b.biasGradient)
  case ("forward", true):
    TransposedConvolution.forward(
      g, input: b.input, weight: b.weight, bias: b.bias, output: b.output)
  case ("input", true):
    TransposedConvolution.backwardInput(
      g, outputGradient: b.output, weight: b.weight, inputGradient: b.inputGradient)
  case ("weight", true):
    TransposedConvolution.backwardWeight(
      g, input: b.input, outputGradient: b.output, weightGradient: b.weightGradient,
      biasGradient: b.biasGradient)
  default:
    FileHandle.standardError.write(Data("unknown pass \(pass)\n".utf8))
    exit(2)
  }
}

let arguments = CommandLine.arguments
if let flag = arguments.firstIndex(of: "--threads"), flag + 1 < arguments.count,
  let threads = Int(arguments[flag + 1]), threads > 0
{
  ComputeThreads.setThreadCount(threads)
}

var buffers: [String: Buffers] = [:]
var warmed: Set<String> = []
while let line = readLine() {
  let fields = line.split(separator: " ").map(String.init)
  let numbers = fields.prefix(10).compactMap { Int($0) }
  guard fields.count == 12, numbers.count == 10, let repeats = Int(fields[11]), repeats > 0 else {
    FileHandle.standardError.write(Data("bad request: \(line)\n".utf8))
    exit(2)
  }
  let g = ConvolutionGeometry(
    batch: numbers[1], inChannels: numbers[2], outChannels: numbers[3], height: numbers[4],
    width: numbers[5], kernelHeight: numbers[6], kernelWidth: numbers[6], strideY: numbers[7],
    strideX: numbers[7], paddingY: numbers[8], paddingX: numbers[8], outputPaddingY: numbers[9],
    outputPaddingX: numbers[9], isTransposed: numbers[0] == 1)
  let key = fields.prefix(10).joined(separator: " ")
  let b = buffers[key] ?? Buffers(g)
  buffers[key] = b
  let pass = fields[10]
  if !warmed.contains(key + pass) {
    run(pass, g, b)
    warmed.insert(key + pass)
  }
  var times: [String] = []
  for _ in 0..<repeats {
    let start = DispatchTime.now().uptimeNanoseconds
    run(pass, g, b)
    times.append(String(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9))
  }
  print(times.joined(separator: " "))
  fflush(nil)
}
