//go:build cgo

package bridge_test

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log"

	"github.com/cgoguard/cgoguard/bridge"
	"github.com/cgoguard/cgoguard/handles"
)

// A C library would push with cg_bridge_push(b.CPtr(), ...); Push does the
// same from Go.
func ExampleNew() {
	b, err := bridge.New(1024, bridge.WithName("decoder"), bridge.WithMaxMessageSize(64))
	if err != nil {
		log.Fatal(err)
	}
	for _, ev := range []string{"open", "frame", "close"} {
		if err := b.Push([]byte(ev)); err != nil {
			log.Fatal(err)
		}
	}
	b.Close() // the three messages are still delivered
	for {
		_, err := b.Drain(context.Background(), func(msg []byte) {
			fmt.Println(string(msg))
		})
		if errors.Is(err, bridge.ErrClosed) {
			break
		}
	}
	fmt.Printf("%+v\n", b.Stats())
	// Output:
	// open
	// frame
	// close
	// {Pushed:3 Delivered:3 Dropped:0 FullWaits:0 Wakeups:1}
}

// Under DropOldest a full ring evicts its oldest message; the eviction is
// counted.
func ExampleWithPolicy() {
	b, err := bridge.New(2, bridge.WithPolicy(bridge.DropOldest))
	if err != nil {
		log.Fatal(err)
	}
	defer b.Close()
	for _, ev := range []string{"1", "2", "3"} {
		b.Push([]byte(ev))
	}
	b.Drain(context.Background(), func(msg []byte) { fmt.Print(string(msg), " ") })
	fmt.Printf("dropped %d\n", b.Stats().Dropped)
	// Output: 2 3 dropped 1
}

// C code that routes events to Go callbacks keeps them as handles: it puts
// the handle's integer in each message and the consumer calls the value.
func Example_handles() {
	b, err := bridge.New(64)
	if err != nil {
		log.Fatal(err)
	}
	defer b.Close()
	onTemp := handles.New(func(celsius uint32) { fmt.Println("temperature", celsius) })
	defer onTemp.Delete()

	// In C: struct { uint64_t handle; uint32_t value; } m = {h, 21};
	//       cg_bridge_push(b, &m, 12);
	msg := binary.LittleEndian.AppendUint64(nil, uint64(onTemp))
	msg = binary.LittleEndian.AppendUint32(msg, 21)
	b.Push(msg)

	b.Drain(context.Background(), func(m []byte) {
		v, err := handles.Handle(binary.LittleEndian.Uint64(m)).Lookup()
		if err != nil {
			return // the callback was unregistered meanwhile
		}
		v.(func(uint32))(binary.LittleEndian.Uint32(m[8:]))
	})
	// Output: temperature 21
}

// Snapshot lists the open bridges for metrics.
func ExampleSnapshot() {
	b, err := bridge.New(8, bridge.WithName("example-snapshot"))
	if err != nil {
		log.Fatal(err)
	}
	b.Push([]byte("x"))
	for _, in := range bridge.Snapshot() {
		if in.Name == "example-snapshot" {
			fmt.Printf("%s %v pushed=%d delivered=%d\n", in.Name, in.Policy, in.Stats.Pushed, in.Stats.Delivered)
		}
	}
	b.Close()
	// Output: example-snapshot Block pushed=1 delivered=0
}
