"""TensorBoard event files of a run's per-epoch numbers (<out>/tb/), when tensorboardX is installed.

tensorboardX writes TensorBoard's event format with NumPy and protobuf alone: no torch, no TensorFlow (torch's
SummaryWriter needs torch; TensorBoard's own TF-free writer is experimental). It is the writer Ray Tune uses for
its trial logs too. View the curves with `tensorboard --logdir <out>/tb` (pip install tensorboard).
Without tensorboardX a run says so in one line and writes no event files: pip install tensorboardX (or, in the repository, pip install -e '.[tensorboard]').
"""
import contextlib
import numbers
import os
import shutil

FOLDER = "tb"


def writer_class():
    """tensorboardX.SummaryWriter, or None when it is not installed."""
    try:
        from tensorboardX import SummaryWriter
    except ImportError:
        return None
    return SummaryWriter


class EventLog:
    """Mirrors metrics.csv: one scalar per numeric column and epoch; text columns (variant, loss) prefix the tags."""

    def __init__(self, out, name):
        self.folder, self.name, self.writer = os.path.join(out, FOLDER), name, None

    def rows(self, rows):
        """Start the event files again from exactly these rows (a fresh run, or a resumed run's history), so an
        epoch redone after a stop never appears twice."""
        self.close()
        with contextlib.suppress(FileNotFoundError):
            shutil.rmtree(self.folder)
        cls = writer_class()
        if cls is None:
            print(f"{self.name}: no TensorBoard event files (tensorboardX is not installed: "
                  "pip install tensorboardX, or pip install -e '.[tensorboard]' in the repository)", flush=True)
            return
        self.writer = cls(self.folder, flush_secs=30)
        for row in rows:
            self.row(row, flush=False)
        self.writer.flush()

    def row(self, row, flush=True):
        if self.writer is None:
            return
        prefix = "/".join(str(v) for k, v in row.items() if isinstance(v, str) and v and k != "epoch")
        step = int(row["epoch"])
        for k, v in row.items():
            if k == "epoch" or isinstance(v, bool) or not isinstance(v, numbers.Real):
                continue  # text columns, and cells left empty (no validation that epoch)
            self.writer.add_scalar(f"{prefix}/{k}" if prefix else k, float(v), step)
        if flush:  # a killed run keeps its curves up to the last epoch
            self.writer.flush()

    def close(self):
        if self.writer is not None:
            self.writer.close()
            self.writer = None
