//! `freenoise-demo`: the demo model's own tool. `analyse` reads a clip of its world; with the
//! `train` feature, `train`, `evaluate`, `export`, `snapshot` and `average` make and ship the
//! model (`gpu-train` adds a Vulkan GPU). A run folder is resumable: `train` again with the same
//! `--run` continues from its last checkpoint.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use demo::analysis::analyse;
use demo::semantics::quarters;
use demo::vocab::COLOURS;
use engine::npy::read_npy_file;
use engine::EngineError;

#[derive(Parser)]
#[command(name = "freenoise-demo", version, about = "The demo model: read clips of its world, and (feature `train`) train and ship it")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Read a clip of the demo model's world (shapes on plain or gradient backgrounds): the
    /// moving object's colour and direction of travel, as one line of JSON.
    Analyse(AnalyseArgs),
    #[cfg(feature = "train")]
    #[command(flatten)]
    Train(training::Command),
}

#[derive(clap::Args)]
struct AnalyseArgs {
    /// The clip as float32 .npy of shape (F, H, W, 3) with values in [0, 1] (what
    /// `freenoise generate --save-video` writes).
    #[arg(long)]
    video: PathBuf,
}

fn main() -> ExitCode {
    engine::host_alloc::keep_freed_memory();
    let result = match Cli::parse().command {
        Command::Analyse(args) => analyse_file(&args.video),
        #[cfg(feature = "train")]
        Command::Train(command) => training::run(command),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}

/// Prints `{"frames", "colour", "direction", "quarters", "visible", "consistency"}` (see
/// `demo::analysis`; `quarters`: the direction in each whole 16 frames, as the long checks
/// read it); colour and a direction are null when no object or no travel is found.
fn analyse_file(path: &Path) -> Result<(), EngineError> {
    let (video, name) = read_npy_file(path)?;
    let &[frames, height, width, 3] = video.shape.as_slice() else {
        return Err(EngineError::BadFile { file: name, problem: format!("shape {:?} is not (frames, height, width, 3)", video.shape) });
    };
    let size = height * width * 3;
    let rgb: Vec<Vec<u8>> = video.data.chunks(size).map(|f| f.iter().map(|&v| engine::image::unit_to_u8(v)).collect()).collect();
    let a = analyse(&rgb, width, height);
    let json = serde_json::json!({
        "frames": frames,
        "colour": a.colour.map(|c| COLOURS[c].name),
        "direction": a.direction(0..frames).map(|d| d.words()),
        "quarters": quarters(&a).iter().map(|q| q.map(|d| d.words())).collect::<Vec<_>>(),
        "visible": a.visible(),
        "consistency": a.consistency(),
    });
    println!("{json}");
    Ok(())
}

#[cfg(feature = "train")]
mod training {
    use std::path::PathBuf;

    use clap::{Subcommand, ValueEnum};
    use demo::train::{average, evaluate, export_f16, fork, snapshot, write_card, Recipe, Run};
    use engine::burn::prelude::Device;
    use engine::EngineError;

    #[derive(Clone, Copy, ValueEnum)]
    pub enum DeviceArg {
        Cpu,
        /// The first GPU, through Vulkan.
        #[cfg(feature = "gpu-train")]
        Gpu,
    }

    /// The run folder every training command works on: recipe, state, losses.csv, optimizer
    /// state and the model (model/).
    #[derive(clap::Args)]
    pub struct RunFolder {
        #[arg(long)]
        run: PathBuf,
    }

    #[derive(Subcommand)]
    pub enum Command {
        /// Train (or resume) the run on the procedural shapes data set.
        Train(TrainArgs),
        /// Score the run's model on held-out prompts (16 frames) and keep the figures in the run
        /// folder (evaluation.json) for the model card.
        Evaluate {
            #[command(flatten)]
            run: RunFolder,
            /// How many held-out prompts.
            #[arg(long, default_value_t = 56)]
            prompts: usize,
            /// The 64-frame checks too (FreeNoise and plain sampling on the same prompts, and
            /// keyframe turns), about twenty times longer.
            #[arg(long)]
            long: bool,
        },
        /// Write the run's model with f16 weights to a folder, with its card (README.md: data,
        /// recipe, time, losses, the last evaluation's figures).
        Export {
            #[command(flatten)]
            run: RunFolder,
            #[arg(long, value_name = "FOLDER")]
            to: PathBuf,
        },
        /// Write only the card (README.md) from the run folder into a folder that holds its
        /// exported model (after a change to the card's text, without exporting again).
        Card {
            #[command(flatten)]
            run: RunFolder,
            #[arg(long, value_name = "FOLDER")]
            to: PathBuf,
        },
        /// Write what a later `train --start-from` needs (f16 model, state, recipe, losses, last
        /// evaluation) to a folder, so the run outlives this machine.
        Snapshot {
            #[command(flatten)]
            run: RunFolder,
            #[arg(long, value_name = "FOLDER")]
            to: PathBuf,
        },
        /// Make --run (a new folder) the run whose text encoder and UNet weights are the mean of
        /// these checkpoints' (copies of one run folder taken after its checkpoints), the rest
        /// being the latest one's; evaluate, export or snapshot it after.
        Average {
            #[command(flatten)]
            run: RunFolder,
            #[arg(value_name = "CHECKPOINT", num_args = 2.., required = true)]
            checkpoints: Vec<PathBuf>,
        },
    }

    #[derive(clap::Args)]
    pub struct TrainArgs {
        #[command(flatten)]
        run: RunFolder,
        /// Folder with the CLIP BPE tokenizer files (vocab.json, merges.txt, tokenizer_config.json):
        /// the shipped model's by default.
        #[arg(long, default_value = "public/models/demo/tokenizer")]
        tokenizer: PathBuf,
        #[arg(long, value_enum, default_value = "cpu")]
        device: DeviceArg,
        /// Stage-1 (VAE) steps; a resumed run keeps the larger of this and its recipe's.
        #[arg(long)]
        vae_steps: Option<usize>,
        /// Stage-1b (decoder alone) steps; a run whose stage 2 has begun runs them before continuing.
        #[arg(long)]
        decoder_steps: Option<usize>,
        /// Stage-2 (text encoder + UNet) steps.
        #[arg(long)]
        denoise_steps: Option<usize>,
        #[arg(long)]
        clips_per_batch: Option<usize>,
        #[arg(long)]
        checkpoint_every: Option<usize>,
        #[arg(long)]
        log_every: Option<usize>,
        /// Share of clips drawn at high noise (the recipe's `high_noise_share`); a new value takes
        /// effect from the run's current step.
        #[arg(long)]
        high_noise_share: Option<f64>,
        /// Start this (new) run from another run folder's trained model: its VAE, and its text
        /// encoder and UNet as stage 2's starting weights (fresh optimizer moments, this run's
        /// recipe and clip pool), then train.
        #[arg(long, value_name = "PARENT_RUN")]
        start_from: Option<PathBuf>,
        /// Frames per stage-1 batch.
        #[arg(long)]
        vae_batch_frames: Option<usize>,
        /// Stop cleanly (after a checkpoint) after this many seconds; run again to resume.
        #[arg(long)]
        max_seconds: Option<f64>,
    }

    pub fn run(command: Command) -> Result<(), EngineError> {
        match command {
            Command::Train(args) => train(args),
            Command::Evaluate { run, prompts, long } => {
                println!("{}", evaluate(&run.run, prompts, long)?);
                Ok(())
            }
            Command::Export { run, to } => {
                export_f16(&run.run.join("model"), &to)?;
                write_card(&run.run, &to)
            }
            Command::Card { run, to } => write_card(&run.run, &to),
            Command::Snapshot { run, to } => snapshot(&run.run, &to),
            Command::Average { run, checkpoints } => {
                let state = average(&checkpoints, &run.run)?;
                println!("{}: the mean of the checkpoints at denoiser steps {:?}", run.run.display(), state.averaged);
                Ok(())
            }
        }
    }

    fn train(args: TrainArgs) -> Result<(), EngineError> {
        let folder = &args.run.run;
        let device = match args.device {
            DeviceArg::Cpu => Device::flex(),
            #[cfg(feature = "gpu-train")]
            DeviceArg::Gpu => Device::vulkan(engine::burn::prelude::DeviceKind::DiscreteGpu(0)),
        };
        if let Some(parent) = &args.start_from {
            let state = fork(parent, folder)?;
            println!("starting from {} at denoiser step {}", parent.display(), state.parent.as_ref().map_or(0, |p| p.denoise_step));
        }
        let mut run = Run::open(folder, Recipe::default(), &args.tokenizer, device)?;
        // Flags given override the recipe (a new run's defaults or a resumed run's saved values):
        // step counts to train longer, batch size and logging when a run moves between machines.
        let r = &mut run.recipe;
        r.vae_steps = args.vae_steps.unwrap_or(r.vae_steps);
        r.denoise_steps = args.denoise_steps.unwrap_or(r.denoise_steps);
        if let Some(steps) = args.decoder_steps {
            r.set_decoder_steps(steps);
        }
        r.clips_per_batch = args.clips_per_batch.unwrap_or(r.clips_per_batch);
        r.vae_batch_frames = args.vae_batch_frames.unwrap_or(r.vae_batch_frames);
        r.checkpoint_every = args.checkpoint_every.unwrap_or(r.checkpoint_every);
        r.log_every = args.log_every.unwrap_or(r.log_every);
        if let Some(share) = args.high_noise_share {
            r.set_high_noise_share(share, run.state.denoise_step)?;
        }
        run.save_recipe()?;
        run.deadline = args.max_seconds.map(|s| std::time::Instant::now() + std::time::Duration::from_secs_f64(s));
        run.train()
    }
}
