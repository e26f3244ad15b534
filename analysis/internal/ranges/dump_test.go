package ranges

import (
	"os"
)

func init() {
	if os.Getenv("RANGES_DUMP") != "" {
		dump = func(p *Prog) {
			for _, f := range p.funcs {
				if f.Name() == os.Getenv("RANGES_DUMP") {
					f.WriteTo(os.Stderr)
				}
			}
		}
	}
}
