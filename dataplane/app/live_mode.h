#pragma once

namespace sipwall {

// `sipwall-dataplane [EAL options] -- [options]`: filters live traffic until SIGINT/SIGTERM.
// Returns the exit status.
int run_live(int argc, char** argv);

}  // namespace sipwall
