// The operations this client runs. GraphQL Code Generator reads the
// `graphql(...)` calls and generates their result and variable types (src/gql).
import { graphql } from "./gql/index.ts";

export const Register = graphql(`
  mutation Register($input: RegisterInput!) {
    register(input: $input) {
      token
      user {
        id
        username
      }
    }
  }
`);

export const CreateArticle = graphql(`
  mutation CreateArticle($input: CreateArticleInput!) {
    createArticle(input: $input) {
      article {
        slug
        title
        tags
        author {
          username
        }
      }
    }
  }
`);

export const HomePage = graphql(`
  query HomePage($first: Int!) {
    articles(first: $first) {
      totalCount
      edges {
        cursor
        node {
          slug
          title
          createdAt
          tags
          favoritesCount
          viewerHasFavorited
          author {
            username
          }
        }
      }
      pageInfo {
        hasNextPage
        endCursor
      }
    }
  }
`);

export const FavoriteArticle = graphql(`
  mutation FavoriteArticle($slug: String!) {
    favoriteArticle(input: { slug: $slug }) {
      article {
        slug
        favoritesCount
        viewerHasFavorited
      }
    }
  }
`);

export const AddComment = graphql(`
  mutation AddComment($slug: String!, $body: String!) {
    addComment(input: { articleSlug: $slug, body: $body }) {
      comment {
        id
        body
      }
    }
  }
`);

export const CommentAdded = graphql(`
  subscription CommentAdded($slug: String!) {
    commentAdded(articleSlug: $slug) {
      id
      body
      author {
        username
      }
    }
  }
`);

export const Logout = graphql(`
  mutation Logout {
    logout {
      revoked
    }
  }
`);
