package app

import (
	"flag"
	"os"
	"testing"

	"github.com/parleydesk/parley/models"
)

// defaultParallel is how many parallel tests run at once unless -parallel
// says otherwise. Go's default is GOMAXPROCS, but these tests mostly wait
// (on PostgreSQL, cloning their database, streams and jobs): measured on
// two cores, the package used about a quarter of its wall time in CPU.
const defaultParallel = "8"

func TestMain(m *testing.M) {
	flag.Parse()
	explicit := false
	flag.Visit(func(f *flag.Flag) { explicit = explicit || f.Name == "test.parallel" })
	if !explicit {
		if err := flag.Set("test.parallel", defaultParallel); err != nil {
			panic(err)
		}
	}
	// Test users sign in with cheap hashes; models' tests check the
	// production cost.
	models.UseCheapPasswordHashes()
	os.Exit(m.Run())
}
