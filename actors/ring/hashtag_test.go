package ring

import (
	"strings"
	"testing"
)

func TestParseHashTag(t *testing.T) {
	for _, good := range []string{"{}", "$$", "[]", "::"} {
		tag, err := ParseHashTag(good)
		if err != nil || tag.String() != good || tag.IsZero() {
			t.Errorf("ParseHashTag(%q) = %q, %v", good, tag, err)
		}
	}
	for _, bad := range []string{"", "{", "{}}", "{{}}", "é"[:1] + "x" + "y"} {
		_, err := ParseHashTag(bad)
		if err == nil {
			t.Errorf("ParseHashTag(%q) succeeded", bad)
		} else if !strings.Contains(err.Error(), "hash tag") {
			t.Errorf("ParseHashTag(%q) error %q should name the setting", bad, err)
		}
	}
	// "é" is two bytes in UTF-8: Dynomite counts bytes, so it is a valid tag.
	if _, err := ParseHashTag("é"); err != nil {
		t.Errorf("ParseHashTag(%q): %v", "é", err)
	}
	var zero HashTag
	if !zero.IsZero() || zero.String() != "" {
		t.Error("zero HashTag must mean no tag")
	}
}

func TestHashTagExtract(t *testing.T) {
	curly, _ := ParseHashTag("{}")
	dollar, _ := ParseHashTag("$$")
	cases := []struct {
		tag  HashTag
		key  string
		want string
	}{
		{curly, "{user1000}.following", "user1000"},
		{curly, "x{a}y{b}z", "a"},           // first open, then first close after it
		{curly, "x}a{b}", "b"},              // a close before the first open is ignored
		{curly, "{a{b}c}", "a{b"},           // nested opens are just bytes
		{curly, "{}", ""},                   // both found, nothing between: empty
		{curly, "abc{}", ""},                // empty tag anywhere
		{curly, "{abc", "{abc"},             // no close: whole key
		{curly, "abc}", "abc}"},             // no open: whole key
		{curly, "}{", "}{"},                 // close only before open: whole key
		{curly, "", ""},                     // empty key stays empty
		{dollar, "$a$b$", "a"},              // same delimiter twice
		{dollar, "a$b", "a$b"},              // one delimiter: whole key
		{dollar, "$$", ""},                  // adjacent: empty
		{HashTag{}, "{user}.x", "{user}.x"}, // no tag configured
	}
	for _, c := range cases {
		if got := string(c.tag.Extract([]byte(c.key))); got != c.want {
			t.Errorf("%q.Extract(%q) = %q, want %q", c.tag, c.key, got, c.want)
		}
	}
}

func TestHashTagExtractIsSubsliceWithoutAllocation(t *testing.T) {
	curly, _ := ParseHashTag("{}")
	key := []byte("prefix{tagged}suffix")
	got := curly.Extract(key)
	if &got[0] != &key[7] {
		t.Error("Extract must return a subslice of the key")
	}
	// The capacity is clipped so appending to the result cannot overwrite the key.
	if cap(got) != len(got) {
		t.Errorf("cap(Extract) = %d, want %d", cap(got), len(got))
	}
	if n := testing.AllocsPerRun(100, func() { curly.Extract(key) }); n != 0 {
		t.Errorf("Extract allocates %v times", n)
	}
}
