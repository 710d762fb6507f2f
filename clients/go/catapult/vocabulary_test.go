package catapult_test

import (
	"slices"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/warlockee/catapult/clients/go/catapult"
	catapultv1 "github.com/warlockee/catapult/clients/go/catapult/v1"
)

// The client's constants are the proto's vocabularies: a status added to (or renamed in) the
// proto's rules fails this test until the constants follow.
func TestStatusConstantsAreTheProtoVocabulary(t *testing.T) {
	for _, tc := range []struct {
		message   proto.Message
		constants []string
	}{
		{&catapultv1.Deployment{}, []string{
			catapult.StatusDeploying, catapult.StatusSuccess, catapult.StatusFailed, catapult.StatusTerminated,
		}},
		{&catapultv1.Release{}, []string{catapult.ReleaseStatusActive, catapult.ReleaseStatusDeprecated}},
	} {
		rules := statusRules(t, tc.message)
		if !slices.Equal(tc.constants, rules.GetChoices()) {
			t.Errorf("%s status constants %q, the proto's choices %q",
				tc.message.ProtoReflect().Descriptor().Name(), tc.constants, rules.GetChoices())
		}
	}
}

func TestEventTypeConstantsAreTheProtoVocabulary(t *testing.T) {
	field := (&catapultv1.ChangeEvent{}).ProtoReflect().Descriptor().Fields().ByName("type")
	rules, _ := proto.GetExtension(field.Options(), catapultv1.E_Rules).(*catapultv1.FieldRules)
	constants := []string{catapult.EventCreated, catapult.EventUpdated, catapult.EventSuperseded,
		catapult.EventTerminated, catapult.EventDeleted}
	if !slices.Equal(constants, rules.GetChoices()) {
		t.Errorf("event type constants %q, the proto's choices %q", constants, rules.GetChoices())
	}
}

// DeploymentSpec.Status, catapult-deploy and the scripts leave the status to the server and
// document that a deployment recorded without one is live: true only while the proto's
// default is "success".
func TestDefaultDeploymentStatusIsLive(t *testing.T) {
	if got := statusRules(t, &catapultv1.Deployment{}).GetDefault(); got != catapult.StatusSuccess {
		t.Fatalf("catapult.v1.Deployment.status defaults to %q; the clients document %q", got, catapult.StatusSuccess)
	}
}

func statusRules(t *testing.T, message proto.Message) *catapultv1.FieldRules {
	t.Helper()
	field := message.ProtoReflect().Descriptor().Fields().ByName("status")
	rules, ok := proto.GetExtension(field.Options(), catapultv1.E_Rules).(*catapultv1.FieldRules)
	if !ok || len(rules.GetChoices()) == 0 {
		t.Fatalf("%s.status declares no (catapult.v1.rules).choices", message.ProtoReflect().Descriptor().FullName())
	}
	return rules
}
