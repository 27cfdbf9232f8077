import { useMutation, useQuery, useQueryClient, type QueryKey, type UseQueryOptions } from '@tanstack/react-query';
import type { TypedDocumentString } from '../lib/api/__generated__/graphql';
import type { ApiError } from '../lib/api/errors';
import { useServices } from './services';

/** A query through the gateway under a key from lib/api/query-keys.ts. */
export function useApiQuery<TResult, TVariables>(
  key: QueryKey,
  document: TypedDocumentString<TResult, TVariables>,
  variables: TVariables,
  options: Omit<UseQueryOptions<TResult, ApiError, TResult, QueryKey>, 'queryKey' | 'queryFn'> = {},
) {
  const { api } = useServices();
  return useQuery<TResult, ApiError, TResult, QueryKey>({
    queryKey: key,
    queryFn: ({ signal }) => api.request(document, variables, { signal }),
    ...options,
  });
}

/**
 * A mutation through the gateway; on success the queries under `invalidates` are refetched so every
 * page showing them is current.
 */
export function useApiMutation<TResult, TVariables>(document: TypedDocumentString<TResult, TVariables>, options: { invalidates?: QueryKey[]; onSuccess?: (data: TResult, variables: TVariables) => void } = {}) {
  const { api } = useServices();
  const queryClient = useQueryClient();
  return useMutation<TResult, ApiError, TVariables>({
    mutationFn: (variables) => api.request(document, variables),
    onSuccess: async (data, variables) => {
      options.onSuccess?.(data, variables);
      await Promise.all((options.invalidates ?? []).map((queryKey) => queryClient.invalidateQueries({ queryKey })));
    },
  });
}
