package catapult_test

import (
	"slices"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/warlockee/catapult/clients/go/catapult"
	catapultv1 "github.com/warlockee/catapult/clients/go/catapult/v1"
)

// The client's constants are the proto's vocabulary: a status added to (or renamed in) the
// proto's rules fails this test until the constants follow.
func TestStatusConstantsAreTheProtoVocabulary(t *testing.T) {
	field := (&catapultv1.Deployment{}).ProtoReflect().Descriptor().Fields().ByName("status")
	rules, ok := proto.GetExtension(field.Options(), catapultv1.E_Rules).(*catapultv1.FieldRules)
	if !ok || len(rules.GetChoices()) == 0 {
		t.Fatalf("catapult.v1.Deployment.status declares no (catapult.v1.rules).choices")
	}
	constants := []string{
		catapult.StatusDeploying, catapult.StatusSuccess, catapult.StatusFailed, catapult.StatusTerminated,
	}
	if !slices.Equal(constants, rules.GetChoices()) {
		t.Fatalf("Status constants %q, the proto's choices %q", constants, rules.GetChoices())
	}
}
