package kit

import (
	"fmt"
	"strings"

	"github.com/wsim/wsim/internal/api"
)

// MaxTags is the number of tags a resource may carry.
const MaxTags = 50

// CheckTags applies the rules the model cannot state: at most MaxTags tags,
// no reserved aws: prefix, no key twice.
func CheckTags(tags []api.Tag) ([]api.Tag, error) {
	if len(tags) > MaxTags {
		return nil, &api.ResourceLimitExceededException{Message: fmt.Sprintf("A resource can have at most %d tags; %d were given.", MaxTags, len(tags))}
	}
	seen := make(map[string]bool, len(tags))
	for _, t := range tags {
		k := *t.Key
		if err := CheckTagKey(k); err != nil {
			return nil, err
		}
		if seen[k] {
			return nil, InvalidParameter("The tag key %s appears more than once.", k)
		}
		seen[k] = true
	}
	return tags, nil
}

// CheckTagKey refuses keys in the aws: namespace, which AWS reserves.
func CheckTagKey(k string) error {
	if strings.HasPrefix(strings.ToLower(k), "aws:") {
		return InvalidParameter("The tag key %s is not valid: keys beginning with aws: are reserved for AWS use.", k)
	}
	return nil
}

// TagMap is tags as a map from key to value.
func TagMap(tags []api.Tag) map[string]string {
	m := make(map[string]string, len(tags))
	for _, t := range tags {
		m[*t.Key] = api.ToString(t.Value)
	}
	return m
}
