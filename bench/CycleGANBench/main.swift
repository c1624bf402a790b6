// Times one row of bench/cyclegan.py in this process, one request per stdin line:
//   run      one repetition; answers with its wall time in seconds
//   profile  one training step with the Profiler on; answers with `forward|backward<TAB>kind
//            <TAB>seconds` lines, `backward total<TAB>seconds`, `step<TAB>seconds`, then `end`
//   peak     the process's peak resident set so far (VmHWM of /proc/self/status), in KiB
// Usage: CycleGANBench --row step256|step128|infer256|infer512 [--threads N]
//
// A step row is the trainer's own `CycleGAN.step` (what `transmute train` runs on each batch)
// with the default options (resnet_9blocks ngf 64, basic PatchGAN ndf 64, instance norm,
// LSGAN, λ 10/10, identity 0.5, pools of 50, Adam 2e-4 (0.5, 0.999)) on one fixed pair of
// random images; an inference row is `GeneratorTranslator.translate` (what `transmute
// translate` runs on each image) on one random image.
import Dispatch
import Foundation
import Kernels
import Models
import NeuralNet
import Tensors
import Training
import Translation

/// Writes `message` to stderr and exits with status 2.
func fail(_ message: String) -> Never {
  FileHandle.standardError.write(Data("CycleGANBench: \(message)\n".utf8))
  exit(2)
}

/// Seconds taken by `body`.
func seconds(_ body: () -> Void) -> Double {
  let start = DispatchTime.now().uptimeNanoseconds
  body()
  return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
}

/// The value after `flag` on the command line.
func argument(_ flag: String) -> String? {
  let arguments = CommandLine.arguments
  guard let index = arguments.firstIndex(of: flag), index + 1 < arguments.count else {
    return nil
  }
  return arguments[index + 1]
}

/// The peak resident set of this process in KiB, as the kernel reports it (VmHWM).
func peakResidentKiB() -> Int {
  guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
    let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
    let kib = line.split(separator: " ").compactMap({ Int($0) }).first
  else { fail("cannot read VmHWM from /proc/self/status") }
  return kib
}

/// One full training step of the trainer, repeated on the same two images.
final class StepRow {
  let model: CycleGAN
  let realA: Tensor
  let realB: Tensor
  var fakeAPool: ImagePool
  var fakeBPool: ImagePool
  var iteration: UInt64 = 0

  init(size: Int) {
    let options = TrainingOptions(folderA: "A", folderB: "B", name: "bench")
    model = CycleGAN(options: options)
    var random = RandomGenerator(seed: 1)
    realA = Tensor.randomUniform(
      shape: [1, 3, size, size], lowerBound: -1, upperBound: 1, using: &random)
    realB = Tensor.randomUniform(
      shape: [1, 3, size, size], lowerBound: -1, upperBound: 1, using: &random)
    fakeAPool = ImagePool(capacity: options.poolSize)
    fakeBPool = ImagePool(capacity: options.poolSize)
  }

  func run() {
    iteration += 1
    let random = StepRandoms(
      fakeAPool: RandomGenerator(seed: 2 * iteration),
      fakeBPool: RandomGenerator(seed: 2 * iteration + 1),
      dropoutSeed: iteration)
    _ = model.step(
      realA: realA, realB: realB, fakeAPool: &fakeAPool, fakeBPool: &fakeBPool, random: random)
  }

  /// The kind of work of a layer that a `Sequential` applies, for the breakdown.
  func kind(of layer: any Layer, discriminatorLayers: Set<ObjectIdentifier>) -> String {
    if discriminatorLayers.contains(ObjectIdentifier(layer)) { return "D layers" }
    switch layer {
    case let convolution as Conv2d:
      if convolution.kernelSize == 7 { return "conv 7x7" }
      return convolution.stride == 2 ? "stride-2 down" : "residual 3x3"
    case is ConvTranspose2d: return "transposed up"
    case is InstanceNorm2d: return "instance norm"
    case is ReLU, is Tanh, is LeakyReLU: return "activations"
    case is Pad2d: return "padding"
    default: return "other"
    }
  }

  /// One step with the Profiler on, printed as the header of this file says.
  func profile() {
    var discriminatorLayers = Set<ObjectIdentifier>()
    for network in [model.discriminatorA, model.discriminatorB] {
      network.forEachLayer { discriminatorLayers.insert(ObjectIdentifier($0)) }
    }
    LayerProfiling.label = { [self] in kind(of: $0, discriminatorLayers: discriminatorLayers) }
    Profiler.start()
    let total = seconds { run() }
    let report = Profiler.stop()

    func renamed(_ label: String) -> String {
      switch label {
      case Profiler.lossLabel: return "losses"
      case LayerProfiling.optimizerLabel: return "Adam"
      case Profiler.unlabelled: return "other"
      default: return label
      }
    }
    for (label, time) in report.forward.sorted(by: { $0.key < $1.key }) {
      print("forward\t\(renamed(label))\t\(time)")
    }
    for (label, time) in report.backward.sorted(by: { $0.key < $1.key }) {
      print("backward\t\(renamed(label))\t\(time)")
    }
    print("backward total\t\(report.backwardSeconds)")
    print("step\t\(total)")
    print("end")
  }
}

/// The generator as `transmute translate` runs it, on one image.
final class InferenceRow {
  let translator: GeneratorTranslator
  let image: Tensor

  init(size: Int) {
    var random = RandomGenerator(seed: 1)
    let generator = ResnetGenerator(GeneratorConfiguration(), inputChannels: 3, outputChannels: 3)
    Initialization().apply(to: generator, using: &random)
    translator = GeneratorTranslator(generator)
    image = Tensor.randomUniform(
      shape: [1, 3, size, size], lowerBound: -1, upperBound: 1, using: &random)
  }

  func run() { _ = translator.translate(image) }
}

if let threads = argument("--threads") {
  guard let count = Int(threads), count > 0 else { fail("--threads takes a positive count") }
  ComputeThreads.setThreadCount(count)
}
let row = argument("--row") ?? ""
let sizes = ["step256": 256, "step128": 128, "infer256": 256, "infer512": 512]
guard let size = sizes[row] else {
  fail("--row takes one of \(sizes.keys.sorted().joined(separator: ", ")), got '\(row)'")
}
let step = row.hasPrefix("step") ? StepRow(size: size) : nil
let inference = step == nil ? InferenceRow(size: size) : nil
print("ready")
fflush(nil)

while let line = readLine() {
  switch line {
  case "run":
    print(seconds { if let step { step.run() } else { inference?.run() } })
  case "profile":
    guard let step else { fail("profile is for the step rows") }
    step.profile()
  case "peak":
    print(peakResidentKiB())
  default:
    fail("unknown request '\(line)'")
  }
  fflush(nil)
}
