// Times the CycleGAN networks and the optimiser for bench/models.py: for each case below
// prints `name<TAB>seconds`, the median wall time of `repeats` runs after one warm-up.
// Usage: ModelsBench [repeats]
import Dispatch
import Foundation
import Models
import NeuralNet
import Tensors

/// Seconds taken by `body`.
func seconds(_ body: () -> Void) -> Double {
  let start = DispatchTime.now().uptimeNanoseconds
  body()
  return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
}

/// Prints the median of `repeats` timed runs of `body` after one untimed run.
func measure(_ name: String, repeats: Int, _ body: () -> Void) {
  var times: [Double] = []
  for run in 0...repeats {
    let time = seconds(body)
    if run > 0 { times.append(time) }
  }
  times.sort()
  print("\(name)\t\(times[times.count / 2])")
}

let repeats = CommandLine.arguments.count > 1 ? Int(CommandLine.arguments[1]) ?? 3 : 3
var random = RandomGenerator(seed: 1)

// The reference's default networks: resnet_9blocks ngf 64 and the 70×70 PatchGAN, instance norm.
let generator = ResnetGenerator(
  GeneratorConfiguration(), inputChannels: 3, outputChannels: 3)
let discriminator = PatchDiscriminator(DiscriminatorConfiguration(), inputChannels: 3)
Initialization().apply(to: generator, using: &random)
Initialization().apply(to: discriminator, using: &random)
let image = Tensor.randomUniform(
  shape: [1, 3, 256, 256], lowerBound: -1, upperBound: 1, using: &random)

measure("resnet9 forward 256 inference", repeats: repeats) {
  _ = withoutGradients { generator(image) }
}
measure("resnet9 forward+backward 256", repeats: repeats) {
  generator.clearGradients()
  generator(image).mean().backward()
}
measure("patchgan forward+backward 256", repeats: repeats) {
  discriminator.clearGradients()
  discriminator(image).mean().backward()
}

// Adam over the generator's 11.4M parameters, with gradients in place.
generator(image).mean().backward()
let adam = Adam(
  parameters: generator.namedParameters(), learningRate: 2e-4, beta1: 0.5, beta2: 0.999)
measure("adam step resnet9", repeats: repeats * 3) { adam.step() }
